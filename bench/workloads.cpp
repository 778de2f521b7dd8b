#include "bench/workloads.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <filesystem>

#include "bench/http_kind.hpp"
#include "http/metrics_text.hpp"
#include "persistence/db_executor.hpp"
#include "persistence/database_url.hpp"
#include "persistence/store.hpp"
#include "runtime/runtime.hpp"

namespace spool::bench {
namespace asio = boost::asio;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

double seconds_since(steady::time_point t) {
  return std::chrono::duration<double>(steady::now() - t).count();
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is KiB on Linux
}

asio::awaitable<void> sleep_for(steady::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

config::settings base_settings(const options& o, const std::string& db, int concurrency) {
  config::settings s;
  s.db = db;
  s.workers = o.workers;
  s.queues = {{"default", concurrency}};
  s.log_level = o.log_level;
  s.enqueue_durability = o.relaxed ? "relaxed" : "full";
  s.poll_interval_s = 1;
  return s;
}

// Inserts n jobs straight through the store, 10,000 per transaction.
void seed(const std::string& db, int n, const std::string& kind, const std::string& payload,
          int priority = 0, std::optional<jobs::time_point> run_at = {}) {
  auto st = store::open(db);
  st->migrate();
  std::vector<jobs::new_job> batch;
  for (int i = 0; i < n; ++i) {
    batch.push_back({.kind = kind, .payload = payload, .priority = priority, .run_at = run_at});
    if (batch.size() == 10000 || i + 1 == n) {
      st->insert(batch, jobs::now());
      batch.clear();
    }
  }
}

// Runs a runtime on its own io_context while `scenario` runs; the scenario stops it.
template <class Scenario>
void with_runtime(const config::settings& s, jobs::registry kinds, Scenario scenario,
                  bool start_runtime = true) {
  const int threads = runtime::io_threads(s);
  asio::io_context ioc(threads);
  runtime::runtime rt(ioc.get_executor(), s, std::move(kinds));
  std::exception_ptr failure;
  if (start_runtime)
    asio::co_spawn(ioc, rt.run(), [&](std::exception_ptr e) {
      if (e) failure = e;
    });
  asio::co_spawn(ioc, scenario(rt), [&](std::exception_ptr e) {
    if (e) failure = e;
    rt.stop();
  });
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

// Waits until the runtime has committed `n` outcomes; returns when that happened.
asio::awaitable<steady::time_point> committed(runtime::runtime& rt, std::uint64_t n,
                                              steady::duration limit = 600s) {
  const auto deadline = steady::now() + limit;
  while (rt.committed() < n) {
    if (steady::now() > deadline) throw std::runtime_error("timed out waiting for completions");
    co_await sleep_for(500us);
  }
  co_return steady::now();
}

void check_all_completed(const std::string& db, int n, run_result& r) {
  auto counts = store::open(db)->count(jobs::now());
  if (counts.states["completed"] != n)
    r.problems.push_back("completed " + std::to_string(counts.states["completed"]) + " of " +
                         std::to_string(n));
}

// A noop that counts how often each job ran, to check exactly-once.
struct run_counter {
  std::unique_ptr<std::atomic<int>[]> runs;
  jobs::job_id first = 1;
  int n;
  explicit run_counter(int count) : runs(new std::atomic<int>[count + 1]()), n(count) {}
  jobs::handler handler() {
    return [this](jobs::job_context& ctx) -> asio::awaitable<jobs::outcome> {
      const auto i = ctx.job().id - first;
      if (i >= 0 && i < n) runs[i].fetch_add(1, std::memory_order_relaxed);
      co_return jobs::outcome::success();
    };
  }
  void check(run_result& r) const {
    int wrong = 0;
    for (int i = 0; i < n; ++i) wrong += runs[i].load() != 1;
    if (wrong) r.problems.push_back(std::to_string(wrong) + " jobs did not run exactly once");
  }
};

// Where a drain's time goes: how many rounds (each one transaction: commit outcomes, claim
// more) the store served, how many jobs each claimed, how long each took on the database
// thread, and how much of the run that thread spent in them (the runtime's own histogram).
void round_trips(const runtime::runtime& rt, run_result& r) {
  const auto* h = spool::runtime::stats_of(rt).find_db_operation("round");
  if (!h || h->count() == 0) return;
  const auto calls = static_cast<double>(h->count());
  r.extra["round_calls"] = calls;
  r.extra["round_ms_mean"] = h->sum_seconds() * 1000 / calls;
  r.extra["round_jobs_claimed_mean"] = r.jobs / calls;
  if (r.seconds > 0) r.extra["round_db_busy"] = h->sum_seconds() / r.seconds;
}

run_result enqueue_workload(const options& o, const std::string& db, int batch_size, int enqueuers,
                            bool keyed = false) {
  const int n = o.jobs;
  run_result r;
  r.jobs = n;
  auto s = base_settings(o, db, 1);
  jobs::registry kinds;
  steady::time_point start;
  with_runtime(
      s, std::move(kinds),
      [&](runtime::runtime& rt) -> asio::awaitable<void> {
        std::atomic<int> next{0}, done{0};
        auto ex = co_await asio::this_coro::executor;
        start = steady::now();
        for (int e = 0; e < enqueuers; ++e)
          asio::co_spawn(ex, [&]() -> asio::awaitable<void> {
            for (;;) {
              const int from = next.fetch_add(batch_size);
              if (from >= n) break;
              std::vector<jobs::new_job> batch;
              for (int i = from; i < std::min(n, from + batch_size); ++i) {
                batch.push_back({.kind = "noop"});
                if (keyed) batch.back().unique_key = "key-" + std::to_string(i);
              }
              co_await rt.enqueue(std::move(batch));
            }
            ++done;
          }, [&](std::exception_ptr e) {
            if (e) {
              r.problems.push_back("an enqueuer failed");
              done = enqueuers;
            }
          });
        while (done < enqueuers) co_await sleep_for(200us);
        r.seconds = seconds_since(start);
      },
      false);
  auto counts = store::open(db)->count(jobs::now());
  if (counts.states["available"] != n)
    r.problems.push_back("stored " + std::to_string(counts.states["available"]) + " of " +
                         std::to_string(n));
  return r;
}

run_result drain(const options& o, const std::string& db, int n, const std::string& kind,
                 const std::string& payload, int concurrency, std::uint64_t outcomes_per_job = 1) {
  seed(db, n, kind, payload);
  run_result r;
  r.jobs = n;
  r.concurrency = concurrency;
  auto s = base_settings(o, db, concurrency);
  s.kinds["fail"].retry_base_s = 0;  // retry delay at its minimum
  s.kinds["fail"].retry_jitter = 0;
  if (o.limit > 0) s.limits = {{.kind = kind, .queue = "", .concurrency = o.limit, .partition_by = ""}};
  run_counter counter(n);
  jobs::registry kinds;
  if (kind == "noop") kinds.add("noop", counter.handler());
  kinds.add("fail", [](jobs::job_context& ctx) -> asio::awaitable<jobs::outcome> {
    co_return ctx.attempt() == 1 ? jobs::outcome::error("first attempt fails")
                                 : jobs::outcome::success();
  });
  kinds.add("sleep", [](jobs::job_context& ctx) -> asio::awaitable<jobs::outcome> {
    asio::steady_timer timer(co_await asio::this_coro::executor,
                             std::chrono::milliseconds(ctx.payload().at("ms").as_int64()));
    co_await timer.async_wait(asio::use_awaitable);
    co_return jobs::outcome::success();
  });
  with_runtime(s, std::move(kinds), [&](runtime::runtime& rt) -> asio::awaitable<void> {
    const auto start = steady::now();
    const auto end = co_await committed(rt, n * outcomes_per_job);
    r.seconds = std::chrono::duration<double>(end - start).count();
    round_trips(rt, r);
  });
  if (kind == "noop") counter.check(r);
  check_all_completed(db, n, r);
  r.extra["peak_rss_mib"] = peak_rss_mib();
  return r;
}

// A workflow of JOBS noop steps fanning in to one final step (which needs them all), stored as one
// batch, drained at concurrency C; then, on a fresh database, JOBS + 1 independent noop jobs the
// same way. seconds: the workflow's; extra: the independent jobs' time and the ratio.
run_result fan_in(const options& o, const std::string& db) {
  const int n = o.jobs;
  run_result r;
  r.jobs = n + 1;
  r.concurrency = o.concurrency;
  {
    auto st = store::open(db);
    st->migrate();
    std::vector<jobs::new_job> steps(n, jobs::new_job{.kind = "noop"});
    jobs::new_job final_step{.kind = "final"};
    for (int i = 0; i < n; ++i) final_step.needs.push_back(static_cast<std::size_t>(i));
    steps.push_back(std::move(final_step));
    st->insert(steps, jobs::now());
  }
  std::atomic<std::uint64_t> committed_at_final{0};
  std::atomic<int> final_runs{0};
  run_counter counter(n);
  jobs::registry kinds;
  kinds.add("noop", counter.handler());
  kinds.add("final", [&](jobs::job_context& ctx) -> asio::awaitable<jobs::outcome> {
    const auto parents = co_await ctx.parent_results();
    committed_at_final = parents.size();
    ++final_runs;
    co_return jobs::outcome::success();
  });
  with_runtime(base_settings(o, db, o.concurrency), std::move(kinds), [&](runtime::runtime& rt) -> asio::awaitable<void> {
    const auto start = steady::now();
    const auto end = co_await committed(rt, static_cast<std::uint64_t>(n) + 1);
    r.seconds = std::chrono::duration<double>(end - start).count();
    round_trips(rt, r);
  });
  counter.check(r);
  check_all_completed(db, n + 1, r);
  if (final_runs != 1) r.problems.push_back("the final step ran " + std::to_string(final_runs.load()) + " times");
  if (committed_at_final != static_cast<std::uint64_t>(n))
    r.problems.push_back("the final step read " + std::to_string(committed_at_final.load()) + " parents, not " +
                         std::to_string(n));
  // The same number of jobs without dependencies, same database kind, same concurrency.
  reset_database(db);
  auto plain = drain(o, db, n + 1, "noop", "{}", o.concurrency);
  for (auto& p : plain.problems) r.problems.push_back("independent jobs: " + p);
  r.extra["independent_s"] = plain.seconds;
  r.extra["ratio"] = plain.seconds > 0 ? r.seconds / plain.seconds : 0;
  return r;
}

// Percentile p (0..1) of sorted values.
double percentile(const std::vector<double>& sorted, double p) {
  return sorted.empty() ? 0.0 : sorted[std::min(sorted.size() - 1, std::size_t(p * sorted.size()))];
}

run_result latency(const options& o, const std::string& db) {
  const int n = o.jobs;
  run_result r;
  r.jobs = n;
  auto s = base_settings(o, db, o.concurrency);
  std::mutex m;
  std::vector<double> lat_ms, enqueue_ms;  // handler start - enqueue; the enqueue call alone
  std::atomic<int> started{0};
  jobs::registry kinds;
  kinds.add("probe", [&](jobs::job_context& ctx) -> asio::awaitable<jobs::outcome> {
    const auto sent = ctx.payload().at("t").as_int64();
    const double ms = (jobs::now().time_since_epoch().count() - sent) / 1000.0;
    {
      std::lock_guard lock(m);
      lat_ms.push_back(ms);
    }
    ++started;
    co_return jobs::outcome::success();
  });
  with_runtime(s, std::move(kinds), [&](runtime::runtime& rt) -> asio::awaitable<void> {
    co_await sleep_for(200ms);  // the runtime is up and idle
    const auto start = steady::now();
    for (int i = 0; i < n; ++i) {
      co_await asio::steady_timer(co_await asio::this_coro::executor, start + i * 10ms)
          .async_wait(asio::use_awaitable);  // a steady 100 jobs/s
      const auto t = jobs::now().time_since_epoch().count();
      std::vector<jobs::new_job> one{{.kind = "probe", .payload = "{\"t\":" + std::to_string(t) + "}"}};
      co_await rt.enqueue(std::move(one));
      const double ms = (jobs::now().time_since_epoch().count() - t) / 1000.0;
      std::lock_guard lock(m);
      enqueue_ms.push_back(ms);
    }
    while (started < n) co_await sleep_for(1ms);
    r.seconds = seconds_since(start);
  });
  std::sort(lat_ms.begin(), lat_ms.end());
  std::sort(enqueue_ms.begin(), enqueue_ms.end());
  r.extra["p50_ms"] = percentile(lat_ms, 0.50);
  r.extra["p95_ms"] = percentile(lat_ms, 0.95);
  r.extra["p99_ms"] = percentile(lat_ms, 0.99);
  r.extra["max_ms"] = lat_ms.empty() ? 0 : lat_ms.back();
  // How much of it the durable enqueue takes (its commit waits for the disk).
  r.extra["enqueue_p50_ms"] = percentile(enqueue_ms, 0.50);
  r.extra["enqueue_p99_ms"] = percentile(enqueue_ms, 0.99);
  if (static_cast<int>(lat_ms.size()) != n) r.problems.push_back("not every probe ran");
  return r;
}

// Moves every job of one insert through claim and completion, rounds of `limit` jobs as the
// producer makes them; returns how many completed.
int complete_all(store::store& st, int limit) {
  int done = 0;
  std::vector<jobs::completion> changes;
  for (;;) {
    const auto now = jobs::now();
    auto round = st.complete_and_claim(
        changes, {.queue = "default", .limit = limit, .worker = "bench", .now = now,
                  .lease_until = now + 30s});
    done += static_cast<int>(changes.size() - round.stale.size());
    changes.clear();
    if (round.claimed.empty()) return done;
    for (auto& j : round.claimed) {
      jobs::transition t;
      t.next = jobs::transition::to::completed;
      t.at = now;
      t.attempt = j.attempt;
      changes.push_back({j.id, j.lease, t});
    }
  }
}

// The store's own rounds in a tight loop, as the producer makes them: each commits the previous
// batch's completions and claims the next batch in one transaction.
run_result store_ceiling(const options& o, const std::string& db) {
  const int n = o.jobs;
  seed(db, n, "noop", "{}");
  auto st = store::open(db);
  run_result r;
  r.jobs = n;
  const auto start = steady::now();
  const int done = complete_all(*st, o.batch);
  r.seconds = seconds_since(start);
  if (done != n) r.problems.push_back("drained " + std::to_string(done) + " of " + std::to_string(n));
  return r;
}

// The work of a /metrics scrape (the store's counts on its database thread, then the page) with
// JOBS completed jobs in the tables, 100 times on an idle runtime. Counters kept by the
// transactions make it independent of that number; a count that scanned would grow with it.
run_result stats_cost(const options& o, const std::string& db) {
  const int n = o.jobs;
  if (store::backend_of(db) == store::backend::postgresql) {
    // Through the store's rounds PostgreSQL takes most of an hour for ten million; the rows and
    // the counts a drain leaves behind, written in three statements, are the same to a scrape.
    store::open(db)->migrate();
    soci::session sql(soci::postgresql, store::conninfo(db));
    const long long now = std::chrono::duration_cast<std::chrono::microseconds>(
                              jobs::now().time_since_epoch()).count();
    const long long count = n;
    sql << "INSERT INTO jobs (id, kind, queue, payload, priority, max_attempts, created_at) "
           "SELECT nextval('jobs_id_seq'), 'noop', 'default', '{}', 0, 0, :now "
           "FROM generate_series(1, :n)", soci::use(now), soci::use(count);
    sql << "INSERT INTO finished (id, queue, state, attempt, attempted_at, finalized_at) "
           "SELECT id, queue, 'completed', 1, :now, :now2 FROM jobs",
        soci::use(now), soci::use(now);
    sql << "INSERT INTO job_counts (queue, state, shard, n) VALUES ('default', 'completed', 0, :n) "
           "ON CONFLICT (queue, state, shard) DO UPDATE SET n = job_counts.n + excluded.n",
        soci::use(count);
    sql << "VACUUM ANALYZE";
  } else {
    auto st = store::open(db);
    st->migrate();
    std::vector<jobs::new_job> batch;
    for (int left = n; left > 0;) {
      const int k = std::min(left, 10000);
      batch.assign(static_cast<std::size_t>(k), jobs::new_job{.kind = "noop"});
      st->insert(batch, jobs::now());
      left -= complete_all(*st, k);
    }
  }
  run_result r;
  r.jobs = n;
  auto s = base_settings(o, db, o.concurrency);
  std::vector<double> ms;
  with_runtime(s, jobs::registry{}, [&](runtime::runtime& rt) -> asio::awaitable<void> {
    std::size_t bytes = 0;
    // A connection's first statements fill its catalog caches (PostgreSQL: ~17 ms, whatever the
    // rows); a running node pays that once per connection. Reads on every connection at once
    // first, so that the scrapes below measure a node that has been up a while.
    auto& db = spool::runtime::db_of(rt);
    auto scrape_read = [](spool::store::store& s) { return http::read_cluster_view(s, {}); };
    std::atomic<int> warming{2 * db.connections()};
    for (int c = 0; c < 2 * db.connections(); ++c)
      asio::co_spawn(co_await asio::this_coro::executor, [&]() -> asio::awaitable<void> {
        try {
          co_await db.run(scrape_read);
        } catch (...) {  // the measured scrapes below report a database that fails
        }
        --warming;
      }, asio::detached);
    while (warming > 0) co_await sleep_for(1ms);
    const auto start = steady::now();
    // Scrape 0 warms the page's buffers, as a server's first one does.
    for (int i = -1; i < 100; ++i) {
      const auto t = steady::now();
      auto cluster = co_await spool::runtime::db_of(rt).run(scrape_read);
      const auto page = http::render_metrics(rt, &cluster);
      if (i >= 0) ms.push_back(seconds_since(t) * 1000);
      bytes = page.size();
      if (i == 0 && cluster.counts.states["completed"] != n)
        r.problems.push_back("the counts say " + std::to_string(cluster.counts.states["completed"]) +
                             " completed, not " + std::to_string(n));
    }
    r.extra["scrapes_s"] = seconds_since(start);
    r.extra["page_bytes"] = static_cast<double>(bytes);
  });
  std::sort(ms.begin(), ms.end());
  r.extra["scrape_p50_ms"] = percentile(ms, 0.50);
  r.extra["scrape_p99_ms"] = percentile(ms, 0.99);
  r.extra["scrape_max_ms"] = ms.back();
  return r;  // no seconds: jobs/s means nothing here
}

// The size of the job tables: SQLite's file and WAL; PostgreSQL's relations with their indexes
// and TOAST.
double database_mib(const std::string& url) {
  if (store::backend_of(url) == store::backend::sqlite) {
    const auto path = store::locate(url).shown;  // the file
    double bytes = 0;
    for (auto suffix : {"", "-wal"}) {
      std::error_code ec;
      const auto size = std::filesystem::file_size(path + suffix, ec);
      if (!ec) bytes += static_cast<double>(size);
    }
    return bytes / (1 << 20);
  }
  soci::session sql(soci::postgresql, store::conninfo(url));
  double bytes = 0;
  sql << "SELECT CAST(COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS double precision) "
         "FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace "
         "WHERE ns.nspname = 'public' AND c.relkind = 'r'",
      soci::into(bytes);
  return bytes / (1 << 20);
}

// JOBS jobs through a runtime that enqueues them itself (1,000 per call, at most 50,000 waiting)
// and drains them: once with retention off, then with completed jobs kept 1 s and the pruner
// every second. Reports the database's size every tenth of the jobs (every 500,000 of the
// default 5,000,000) with the pruner on, and both throughputs.
run_result retention_soak(const options& o, const std::string& db) {
  const int n = o.jobs;
  const int report_every = std::max(1, n / 10);
  run_result r;
  r.jobs = n;
  auto pass = [&](bool prune) {
    const bool sqlite = store::backend_of(db) == store::backend::sqlite;
    const std::string url = !prune && sqlite ? db + "-small" : db;
    reset_database(url);
    auto s = base_settings(o, url, o.concurrency);
    s.retention.completed_s = prune ? 1 : -1;
    s.retention.interval_s = 1;
    run_counter counter(n);
    jobs::registry kinds;
    kinds.add("noop", counter.handler());
    std::vector<double> sizes;
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> committed{0};
    // Sizes are read off the io_context threads: a stat, or a query on a session of its own.
    std::thread sampler([&] {
      std::uint64_t next = static_cast<std::uint64_t>(report_every);
      while (!done) {
        if (committed >= next) {
          sizes.push_back(database_mib(url));
          next += static_cast<std::uint64_t>(report_every);
        }
        std::this_thread::sleep_for(5ms);
      }
    });
    double seconds = 0;
    try {
      with_runtime(s, std::move(kinds), [&](runtime::runtime& rt) -> asio::awaitable<void> {
        const auto start = steady::now();
        int enqueued = 0;
        while (rt.committed() < static_cast<std::uint64_t>(n)) {
          committed = rt.committed();
          if (enqueued < n && enqueued - static_cast<int>(rt.committed()) < 50000) {
            const int k = std::min(1000, n - enqueued);
            // Named, not a temporary in the co_await: GCC 12 destroys such temporaries twice.
            std::vector<jobs::new_job> batch(static_cast<std::size_t>(k));
            for (auto& j : batch) j.kind = "noop";
            co_await rt.enqueue(std::move(batch));
            enqueued += k;
          } else {
            co_await sleep_for(1ms);
          }
        }
        seconds = seconds_since(start);
        committed = rt.committed();
        if (prune) co_await sleep_for(2500ms);  // one more pass of the pruner after the last job
      });
    } catch (...) {
      done = true;
      sampler.join();
      throw;
    }
    done = true;
    sampler.join();
    counter.check(r);
    const double rate = n / seconds;
    if (prune) {
      r.seconds = seconds;
      for (std::size_t i = 0; i < sizes.size(); ++i)
        r.extra[fmt::format("mib_at_{:02}", (i + 1) * 10)] = sizes[i];  // percent of the jobs
      auto counts = store::open(url)->count(jobs::now());
      r.extra["completed_left"] = static_cast<double>(counts.states["completed"]);
      r.extra["jobs_per_s_pruning"] = rate;
    } else {
      r.extra["jobs_per_s_keeping"] = rate;
    }
  };
  pass(false);
  pass(true);
  r.extra["ratio"] = r.extra["jobs_per_s_pruning"] / r.extra["jobs_per_s_keeping"];
  return r;
}

// The same 20,000-job drain on top of `queued` other jobs (`seed_more` puts them there), then
// alone; the claim must not slow down as the tables grow.
template <class SeedMore>
run_result drain_on_top(const options& o, const std::string& db, int queued, SeedMore seed_more) {
  constexpr int measured = 20000;
  auto timed_drain = [&](bool with_others) {
    const bool sqlite = db.starts_with("sqlite:");
    const std::string url = !with_others && sqlite ? db + "-small" : db;
    if (!sqlite) reset_database(url);  // one PostgreSQL database serves both halves in turn
    if (with_others) seed_more(url, queued);
    seed(url, measured, "noop", "{}", 1);
    run_result part;
    auto s = base_settings(o, url, o.concurrency);
    jobs::registry kinds;
    kinds.add("noop", [](jobs::job_context&) -> asio::awaitable<jobs::outcome> {
      co_return jobs::outcome::success();
    });
    with_runtime(s, std::move(kinds), [&](runtime::runtime& rt) -> asio::awaitable<void> {
      const auto start = steady::now();
      const auto end = co_await committed(rt, measured);
      part.seconds = std::chrono::duration<double>(end - start).count();
    });
    return measured / part.seconds;
  };
  run_result r;
  const double big = timed_drain(true);
  const double small = timed_drain(false);
  r.jobs = measured;
  r.seconds = measured / big;
  r.extra["backlog_jobs_per_s"] = big;
  r.extra["small_jobs_per_s"] = small;
  r.extra["ratio"] = big / small;
  return r;
}

// Behind the 20,000 measured jobs (priority 1), the rest of the backlog, due as well.
run_result backlog(const options& o, const std::string& db) {
  return drain_on_top(o, db, o.jobs, [](const std::string& url, int n) {
    seed(url, n, "noop", "{}", 1);
  });
}

// Ahead of the 20,000 measured jobs: jobs scheduled for tomorrow at a lower priority number,
// which a claim that scanned in key order would read every time.
run_result backlog_scheduled(const options& o, const std::string& db) {
  return drain_on_top(o, db, o.jobs, [](const std::string& url, int n) {
    seed(url, n, "noop", "{}", 0, jobs::now() + std::chrono::hours(24));
  });
}

}  // namespace

void reset_database(const std::string& url) {
  if (store::backend_of(url) == store::backend::sqlite) {
    const auto path = store::locate(url).shown;  // the file
    for (auto suffix : {"", "-wal", "-shm", "-small", "-small-wal", "-small-shm"})
      std::filesystem::remove(path + suffix);
    return;
  }
  soci::session sql(soci::postgresql, store::conninfo(url));
  sql << "SET client_min_messages = warning";
  sql << "DROP SCHEMA public CASCADE";
  sql << "CREATE SCHEMA public";
}

const std::vector<workload>& all_workloads() {
  static const std::vector<workload> list{
      {"w1-single", 20000, "enqueue one awaited durable call at a time",
       [](const options& o, const std::string& db) { return enqueue_workload(o, db, 1, 1); }},
      {"w1-single-unique", 20000, "w1-single with a unique key on every job",
       [](const options& o, const std::string& db) { return enqueue_workload(o, db, 1, 1, true); }},
      {"w1-bulk", 20000, "enqueue in batches of 1,000",
       [](const options& o, const std::string& db) { return enqueue_workload(o, db, 1000, 1); }},
      {"w1-concurrent", 20000, "100 concurrent enqueuers, each call awaiting durability",
       [](const options& o, const std::string& db) { return enqueue_workload(o, db, 1, 100); }},
      {"w2-drain", 20000, "drain queued noop jobs at concurrency C, each exactly once",
       [](const options& o, const std::string& db) {
         return drain(o, db, o.jobs, "noop", "{}", o.concurrency);
       }},
      {"w2-sleep", 2000, "drain queued jobs sleeping 20 ms at concurrency C (with --limit N: about N / 20 ms)",
       [](const options& o, const std::string& db) {
         return drain(o, db, o.jobs, "sleep", R"({"ms":20})", o.concurrency);
       }},
      {"w3-latency", 1000, "idle runtime, 100 jobs/s: handler start - enqueue",
       [](const options& o, const std::string& db) { return latency(o, db); }},
      {"w4-retry", 2000, "jobs failing their first attempt, retry delay at its minimum",
       [](const options& o, const std::string& db) {
         return drain(o, db, o.jobs, "fail", "{}", o.concurrency, 2);
       }},
      {"mem-inflight", 100000, "all jobs sleeping 5 s in flight at once: peak RSS",
       [](const options& o, const std::string& db) {
         return drain(o, db, o.jobs, "sleep", R"({"ms":5000})", o.jobs);
       }},
      {"store-ceiling", 20000, "the store's claim+complete statements in a tight loop",
       [](const options& o, const std::string& db) { return store_ceiling(o, db); }},
      {"backlog", 1000000, "drain 20,000 with JOBS queued vs with 20,000 queued",
       [](const options& o, const std::string& db) { return backlog(o, db); }},
      {"backlog-scheduled", 200000,
       "drain 20,000 with JOBS scheduled for tomorrow ahead of them vs without",
       [](const options& o, const std::string& db) { return backlog_scheduled(o, db); }},
      {"stats-cost", 10000000, "a /metrics scrape's work (counts + page) with JOBS completed jobs",
       [](const options& o, const std::string& db) { return stats_cost(o, db); }},
      {"retention-soak", 5000000,
       "JOBS jobs through with retention 1 s: database size every tenth, throughput vs keeping",
       [](const options& o, const std::string& db) { return retention_soak(o, db); }},
      {"fan-in", 10000, "a workflow of JOBS noop steps into one final step vs JOBS + 1 independent jobs",
       [](const options& o, const std::string& db) { return fan_in(o, db); }},
      {"http-kind", 20000,
       "an HTTP kind against a local endpoint answering at once: jobs/s, then enqueue -> request p50/p99",
       http_kind_workload},
  };
  return list;
}

}  // namespace spool::bench
