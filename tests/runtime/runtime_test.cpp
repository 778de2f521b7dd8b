#define BOOST_TEST_MODULE runtime
// The runtime in-process, end to end over a real store: jobs run, retry, time out, snooze, are
// cancelled, wait for their time and come back unharmed from a shutdown; idle queues start a job
// from the enqueue's own transaction.
#include <boost/json/parse.hpp>

#include "tests/support/runtime_harness.hpp"

using namespace spool;
using namespace spool::test;

BOOST_AUTO_TEST_CASE(an_enqueued_job_runs_to_completion) {
  runtime_harness h;
  std::atomic<int> calls{0};
  h.kinds.add("count", [&](jobs::job_context& ctx) -> asio::awaitable<jobs::outcome> {
    BOOST_TEST(ctx.payload().at("n").as_int64() == 7);
    ++calls;
    co_return jobs::outcome::success();
  });
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    auto id = co_await enqueue(rt, "count", R"({"n":7})");
    auto j = co_await await_job(rt, id, in_state(jobs::state::completed));
    BOOST_TEST(j.attempt == 1);
    BOOST_TEST(j.errors.empty());
  });
  BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_CASE(a_result_is_stored_with_the_job_and_one_over_the_limit_fails_the_attempt) {
  runtime_harness h;
  h.settings.result_max_bytes = 32;
  h.settings.kinds["answer"].retry_base_s = 0.01;
  h.kinds.add("answer", [](jobs::job_context& ctx) -> asio::awaitable<jobs::outcome> {
    co_return jobs::outcome::success(std::string(ctx.payload().at("result").as_string()));
  });
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    auto small = co_await enqueue(rt, "answer", R"({"result":"{\"ok\":true}"})");
    auto big = co_await enqueue(rt, "answer", R"({"result":"[\"a long result, well over thirty-two bytes\"]"})", 1);
    auto j = co_await await_job(rt, small, in_state(jobs::state::completed));
    BOOST_REQUIRE(j.result.has_value());
    BOOST_TEST(*j.result == R"({"ok":true})");
    auto d = co_await await_job(rt, big, in_state(jobs::state::dead));
    BOOST_TEST(!d.result.has_value());
    BOOST_REQUIRE_EQUAL(d.errors.size(), 1u);
    BOOST_TEST(d.errors[0].message.find("over the limit of 32 (setting result_max_bytes)") != std::string::npos,
               d.errors[0].message);
  });
}

namespace {
// The follow-ups ("child" jobs) in the database after a run, by the attempt that enqueued them.
std::vector<std::int64_t> child_attempts(const std::string& url, jobs::job_id parent) {
  auto db = store::open(url);
  store::list_filter children;
  children.kind = "child";
  std::vector<std::int64_t> attempts;
  for (auto& j : db->list(children, jobs::now())) {
    auto p = boost::json::parse(j.payload).as_object();
    if (p.at("parent").to_number<jobs::job_id>() == parent) attempts.push_back(p.at("attempt").as_int64());
  }
  return attempts;
}

jobs::new_job child_of(const jobs::job_context& ctx) {
  return {.kind = "child", .payload = R"({"parent":)" + std::to_string(ctx.job().id) +
                                      R"(,"attempt":)" + std::to_string(ctx.attempt()) + "}"};
}
}  // namespace

BOOST_AUTO_TEST_CASE(follow_ups_of_failed_attempts_are_dropped_and_a_success_commits_its_own) {
  runtime_harness h;
  h.settings.kinds["parent"].retry_base_s = 0.01;
  h.kinds.add("child", [](jobs::job_context&) -> asio::awaitable<jobs::outcome> {
    co_return jobs::outcome::success();
  });
  // Enqueues its follow-up every time it runs; the first run fails, the second snoozes (which
  // gives the attempt back), the third succeeds as attempt 2.
  std::atomic<int> runs{0};
  h.kinds.add("parent", [&runs](jobs::job_context& ctx) -> asio::awaitable<jobs::outcome> {
    ctx.enqueue(child_of(ctx));
    const int run = ++runs;
    if (run == 1) co_return jobs::outcome::error("first attempt fails");
    if (run == 2) co_return jobs::outcome::snooze(std::chrono::milliseconds(10));
    co_return jobs::outcome::success();
  });
  jobs::job_id id = 0;
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    id = co_await enqueue(rt, "parent");
    auto j = co_await await_job(rt, id, in_state(jobs::state::completed));
    BOOST_TEST(j.errors.size() == 1u);
  });
  BOOST_TEST(runs == 3);
  BOOST_TEST(child_attempts(h.db.url(), id) == (std::vector<std::int64_t>{2}));
}

BOOST_AUTO_TEST_CASE(a_stale_attempt_commits_no_follow_up) {
  runtime_harness h;
  std::atomic<bool> first_may_end{false}, first_ended{false};
  std::atomic<jobs::lease_id> first_lease{0};
  h.kinds.add("child", [](jobs::job_context&) -> asio::awaitable<jobs::outcome> {
    co_return jobs::outcome::success();
  });
  // Attempt 1 enqueues its follow-up and waits; meanwhile the job is taken from it (as the
  // rescuer does when a lease runs out) and attempt 2 runs and succeeds. Then attempt 1 succeeds
  // too, under a lease it no longer holds.
  h.kinds.add("parent", [&](jobs::job_context& ctx) -> asio::awaitable<jobs::outcome> {
    ctx.enqueue(child_of(ctx));
    if (ctx.attempt() == 1) {
      first_lease = ctx.job().lease;
      while (!first_may_end) co_await sleep_for(5ms);
      first_ended = true;
    }
    co_return jobs::outcome::success();
  });
  jobs::job_id id = 0;
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    id = co_await enqueue(rt, "parent");
    while (first_lease == 0) co_await sleep_for(5ms);
    auto take_over = [id, lease = first_lease.load()](store::store& s) {
      jobs::transition t;
      t.next = jobs::transition::to::retry;
      t.at = t.run_at = jobs::now();
      t.attempt = 1;
      t.error = jobs::error_entry{1, t.at, "taken over by the test"};
      std::vector<jobs::completion> c{{id, lease, t}};
      return s.complete(c);
    };
    BOOST_TEST((co_await runtime::db_of(rt).run(std::move(take_over))).empty());
    auto j = co_await await_job(rt, id, in_state(jobs::state::completed));
    BOOST_TEST(j.attempt == 2);
    first_may_end = true;
    while (!first_ended) co_await sleep_for(5ms);
  });  // a graceful stop commits (or rejects) every outcome before run() returns
  BOOST_TEST(child_attempts(h.db.url(), id) == (std::vector<std::int64_t>{2}));
}

// A handler reports progress as often as it likes; the runtime stores the latest report with
// the running job (fenced by its lease) within a pass of the progress keeper, and the report goes
// when the attempt ends.
BOOST_AUTO_TEST_CASE(progress_reports_reach_the_store_and_end_with_the_attempt) {
  runtime_harness h;
  std::atomic<bool> finish{false};
  std::atomic<int> reports{0};
  h.kinds.add("embed", [&](jobs::job_context& ctx) -> asio::awaitable<jobs::outcome> {
    for (int i = 1; !finish; ++i) {
      ctx.progress(0.4, "chunk " + std::to_string(i));  // thousands of reports: one stored per pass
      ++reports;
      co_await sleep_for(1ms);
    }
    BOOST_CHECK_THROW(ctx.progress(1.5), std::invalid_argument);
    co_return jobs::outcome::success();
  });
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    auto id = co_await enqueue(rt, "embed", "{}");
    auto running = co_await await_job(rt, id, [](const jobs::job& j) {
      return j.st == jobs::state::running && j.progress.has_value();
    });
    BOOST_TEST(running.progress->fraction == 0.4);
    BOOST_TEST(running.progress->note.rfind("chunk ", 0) == 0u, running.progress->note);
    finish = true;
    auto done = co_await await_job(rt, id, in_state(jobs::state::completed));
    BOOST_TEST(!done.progress.has_value(), "cleared when the job ends");
  });
  BOOST_TEST(reports > 1);
}

BOOST_AUTO_TEST_CASE(a_failing_job_retries_then_succeeds) {
  runtime_harness h;
  h.settings.kinds["fail"].retry_base_s = 0.02;
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    auto id = co_await enqueue(rt, "fail", R"({"times":2})");
    auto j = co_await await_job(rt, id, in_state(jobs::state::completed));
    BOOST_TEST(j.attempt == 3);
    BOOST_REQUIRE_EQUAL(j.errors.size(), 2u);
    BOOST_TEST(j.errors[0].attempt == 1);
    BOOST_TEST(j.errors[1].attempt == 2);
  });
}

BOOST_AUTO_TEST_CASE(exhausted_and_permanent_failures_are_dead_lettered) {
  runtime_harness h;
  h.settings.kinds["fail"].retry_base_s = 0.01;
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    auto exhausted = co_await enqueue(rt, "fail", R"({"times":99})", 3);
    auto permanent = co_await enqueue(rt, "fail", R"({"times":99,"permanent":true})");
    auto a = co_await await_job(rt, exhausted, in_state(jobs::state::dead));
    BOOST_TEST(a.errors.size() == 3u);
    auto b = co_await await_job(rt, permanent, in_state(jobs::state::dead));
    BOOST_TEST(b.errors.size() == 1u);
    BOOST_TEST(b.attempt == 1);
  });
}

BOOST_AUTO_TEST_CASE(a_kind_without_handler_fails_retryably) {
  // The fallback policy applies (a `kinds.missing` entry would be refused as a typo): its first
  // backoff is about a second.
  runtime_harness h;
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    auto id = co_await enqueue(rt, "missing", "{}", 2);
    auto j = co_await await_job(rt, id, in_state(jobs::state::dead));
    BOOST_REQUIRE_EQUAL(j.errors.size(), 2u);
    BOOST_TEST(j.errors[0].message.find("no handler for kind") != std::string::npos);
  });
}

BOOST_AUTO_TEST_CASE(the_kind_timeout_cancels_the_handler_and_fails_the_attempt) {
  runtime_harness h;
  h.settings.kinds["sleep"].timeout_s = 0.05;
  h.settings.kinds["sleep"].max_attempts = 1;
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    const auto start = std::chrono::steady_clock::now();
    auto id = co_await enqueue(rt, "sleep", R"({"ms":60000})");
    auto j = co_await await_job(rt, id, in_state(jobs::state::dead));
    BOOST_TEST((std::chrono::steady_clock::now() - start < 5s));
    BOOST_REQUIRE_EQUAL(j.errors.size(), 1u);
    BOOST_TEST(j.errors[0].message.find("timed out") != std::string::npos);
  });
}

BOOST_AUTO_TEST_CASE(snooze_consumes_no_attempt) {
  runtime_harness h;
  std::atomic<int> calls{0};
  h.kinds.add("snoozer", [&](jobs::job_context& ctx) -> asio::awaitable<jobs::outcome> {
    if (++calls < 3) co_return jobs::outcome::snooze(10ms);
    BOOST_TEST(ctx.attempt() == 1);
    co_return jobs::outcome::success();
  });
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    auto id = co_await enqueue(rt, "snoozer");
    auto j = co_await await_job(rt, id, in_state(jobs::state::completed));
    BOOST_TEST(j.attempt == 1);
    BOOST_TEST(j.errors.empty());
  });
  BOOST_TEST(calls == 3);
}

BOOST_AUTO_TEST_CASE(an_operator_cancel_interrupts_a_running_job) {
  runtime_harness h;
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    auto id = co_await enqueue(rt, "sleep", R"({"ms":60000})");
    co_await await_job(rt, id, in_state(jobs::state::running));
    const auto asked = std::chrono::steady_clock::now();
    BOOST_TEST(co_await rt.cancel(id) == store::cancel_result::requested);
    auto j = co_await await_job(rt, id, in_state(jobs::state::cancelled));
    BOOST_TEST((std::chrono::steady_clock::now() - asked < 1s));
    BOOST_TEST(j.errors.empty());
  });
}

BOOST_AUTO_TEST_CASE(shutdown_returns_in_flight_jobs_unharmed) {
  runtime_harness h;
  h.settings.grace_s = 0.1;
  std::vector<jobs::job_id> ids;
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    for (int i = 0; i < 5; ++i) ids.push_back(co_await enqueue(rt, "sleep", R"({"ms":60000})"));
    for (auto id : ids) co_await await_job(rt, id, in_state(jobs::state::running));
  });
  // The runtime has stopped: every job is back, attempt and history untouched.
  auto db = store::open(h.settings.db);
  for (auto id : ids) {
    auto j = db->get(id, jobs::now());
    BOOST_REQUIRE(j);
    BOOST_TEST(j->st == jobs::state::available);
    BOOST_TEST(j->attempt == 0);
    BOOST_TEST(j->errors.empty());
  }
}

BOOST_AUTO_TEST_CASE(a_scheduled_job_waits_for_its_time) {
  runtime_harness h;
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    jobs::new_job j;
    j.kind = "noop";
    j.run_at = jobs::now() + 300ms;
    std::vector<jobs::new_job> batch{j};
    auto id = (co_await rt.enqueue(std::move(batch))).front().id;
    BOOST_TEST((co_await job_of(rt, id)).st == jobs::state::scheduled);
    auto done = co_await await_job(rt, id, in_state(jobs::state::completed));
    BOOST_REQUIRE(done.attempted_at);
    const auto late = *done.attempted_at - *j.run_at;
    BOOST_TEST(late.count() >= 0);
    BOOST_TEST(late.count() < jobs::duration(50ms).count());  // a timer, not the 200 ms poll
  });
}

BOOST_AUTO_TEST_CASE(invalid_jobs_are_refused_before_the_store) {
  runtime_harness h;
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    bool refused = false;
    try {
      co_await enqueue(rt, "noop", "{not json");
    } catch (const std::invalid_argument& e) {
      refused = std::string(e.what()).find("JSON") != std::string::npos;
    }
    BOOST_TEST(refused);
  });
}

BOOST_AUTO_TEST_CASE(an_idle_queue_starts_an_enqueued_job_from_the_enqueue_itself) {
  // The idle producer's standing claim is made in the enqueue's own transaction: the job is
  // running, not available, by the time the enqueue returns, well before the 200 ms poll.
  runtime_harness h;
  std::atomic<bool> release{false};
  h.kinds.add("wait", [&](jobs::job_context&) -> asio::awaitable<jobs::outcome> {
    while (!release) co_await sleep_for(1ms);
    co_return jobs::outcome::success();
  });
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    co_await sleep_for(100ms);  // idle: the producer has left its claim with the database thread
    auto id = co_await enqueue(rt, "wait");
    BOOST_TEST((co_await job_of(rt, id)).st == jobs::state::running);
    release = true;
    co_await await_job(rt, id, in_state(jobs::state::completed));
  });
}

BOOST_AUTO_TEST_CASE(a_job_taken_by_the_standing_claim_needs_no_round_of_its_own) {
  // The enqueue's transaction claimed the job: nothing is left to wake the producer for, so no
  // round goes until the job ends (the poll is out of the way).
  runtime_harness h;
  h.settings.poll_interval_s = 30;
  std::atomic<bool> release{false};
  h.kinds.add("wait", [&](jobs::job_context&) -> asio::awaitable<jobs::outcome> {
    while (!release) co_await sleep_for(1ms);
    co_return jobs::outcome::success();
  });
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    auto rounds = [&rt] {
      const auto* h = spool::runtime::stats_of(rt).find_db_operation("round");
      return h ? h->count() : 0;
    };
    co_await sleep_for(100ms);  // idle, with a standing claim
    const auto before = rounds();
    auto id = co_await enqueue(rt, "wait");
    BOOST_TEST((co_await job_of(rt, id)).st == jobs::state::running);
    co_await sleep_for(100ms);
    BOOST_TEST(rounds() == before);
    release = true;
    co_await await_job(rt, id, in_state(jobs::state::completed));
  });
}

BOOST_AUTO_TEST_CASE(a_paused_queue_claims_nothing_enqueued_right_after_the_pause) {
  runtime_harness h;
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    co_await sleep_for(100ms);  // idle, with a standing claim
    co_await rt.pause("default", true);
    auto id = co_await enqueue(rt, "noop");
    co_await sleep_for(300ms);  // past a poll
    BOOST_TEST((co_await job_of(rt, id)).st == jobs::state::available);
    co_await rt.pause("default", false);
    co_await await_job(rt, id, in_state(jobs::state::completed));
  });
}

namespace {
// A second runtime on the harness's io_context: another node sharing the database.
struct other_node {
  std::unique_ptr<runtime::runtime> rt;
  std::shared_ptr<std::atomic<bool>> ended = std::make_shared<std::atomic<bool>>(false);

  other_node(asio::any_io_executor ex, const config::settings& s) {
    jobs::registry kinds;
    kinds::register_diagnostic(kinds);
    rt = std::make_unique<runtime::runtime>(ex, s, std::move(kinds));
    asio::co_spawn(ex, rt->run(), [ended = ended](std::exception_ptr) { *ended = true; });
  }
  asio::awaitable<void> stop() {
    rt->stop();
    const auto deadline = steady::now() + 15s;
    while (!ended->load()) {
      if (steady::now() > deadline) throw std::runtime_error("the other runtime did not stop in 15 s");
      co_await sleep_for(5ms);
    }
  }
};

// The job stays available for `d` (polling), or the test fails.
asio::awaitable<void> stays_available(runtime::runtime& rt, std::vector<jobs::job_id> ids,
                                      std::chrono::milliseconds d) {
  const auto until = steady::now() + d;
  while (steady::now() < until) {
    for (auto id : ids) BOOST_REQUIRE_EQUAL((co_await job_of(rt, id)).st, jobs::state::available);
    co_await sleep_for(20ms);
  }
}
}  // namespace

// Issue 20: a pause is stored, so that another node (here a second runtime on the same SQLite
// file) stops claiming within its poll interval (0.2 s), and still holds it after a restart.
BOOST_AUTO_TEST_CASE(a_pause_stored_by_one_runtime_stops_another_and_outlives_its_restart) {
  runtime_harness h;
  h.settings.queues = {{"other", 1}};  // this node does not serve "default": the other one does
  auto serving = h.settings;
  serving.queues = {{"default", 10}};
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto node = std::make_unique<other_node>(ex, serving);
    const auto before = co_await enqueue(rt, "noop");
    co_await await_job(rt, before, in_state(jobs::state::completed));  // it claims

    co_await rt.pause("default", true);  // stored, though this node serves no such queue
    co_await sleep_for(300ms);           // one poll interval of the other node, and some
    const auto held = co_await enqueue(rt, "noop");
    std::vector<jobs::job_id> waiting{held};
    co_await stays_available(rt, waiting, 800ms);
    BOOST_TEST(node->rt->queue_infos().front().paused);

    // Restarted, it claims nothing from the start.
    co_await node->stop();
    node = std::make_unique<other_node>(ex, serving);
    const auto also_held = co_await enqueue(rt, "noop");
    waiting.push_back(also_held);
    co_await stays_available(rt, waiting, 800ms);

    // Resumed by another process (as `spool queues resume` does): both run.
    store::open(h.db.url())->set_paused("default", false, jobs::now());
    co_await await_job(rt, held, in_state(jobs::state::completed), 3s);
    co_await await_job(rt, also_held, in_state(jobs::state::completed), 3s);
    co_await node->stop();
  });
}

// Issue 20: a kind whose jobs snooze forever (a backend answering 429 for good) sends them to the
// dead-letter queue once the snooze ceiling is passed, by count or by total time.
BOOST_AUTO_TEST_CASE(a_job_that_snoozes_forever_ends_dead_after_its_kinds_ceiling) {
  runtime_harness h;
  h.settings.kinds["nap"].max_snoozes = 3;
  h.settings.kinds["nap"].retry_base_s = 0.01;
  h.settings.kinds["long_nap"].max_snooze_total_s = 0.05;
  h.settings.kinds["long_nap"].retry_base_s = 0.01;
  std::atomic<int> naps{0};
  h.kinds.add("nap", [&](jobs::job_context&) -> asio::awaitable<jobs::outcome> {
    ++naps;
    co_return jobs::outcome::snooze(1ms);
  });
  h.kinds.add("long_nap", [](jobs::job_context&) -> asio::awaitable<jobs::outcome> {
    co_return jobs::outcome::snooze(20ms);
  });
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    const auto nap = co_await enqueue(rt, "nap", "{}", 2);
    const auto long_nap = co_await enqueue(rt, "long_nap", "{}", 1);
    auto j = co_await await_job(rt, nap, in_state(jobs::state::dead));
    BOOST_TEST(j.note == "snoozed 4 times, more than max_snoozes 3");
    BOOST_TEST(j.errors.size() == 2u);  // each of its two attempts snoozed once too often
    BOOST_TEST(naps == 5);              // three snoozes, then two failed attempts
    auto l = co_await await_job(rt, long_nap, in_state(jobs::state::dead));
    BOOST_TEST(l.note == "snoozed for 0.06 s in all, more than max_snooze_total_s 0.05");
  });
}

// Issue 20: a kind limited to two runs two at a time though its queue would run ten, and a job
// of another kind queued behind them does not wait for them.
BOOST_AUTO_TEST_CASE(a_kind_limit_bounds_what_runs_and_lets_other_kinds_pass) {
  runtime_harness h;
  h.settings.queues = {{"default", 10}};
  h.settings.limits = {{.kind = "gpu", .queue = "", .concurrency = 2, .partition_by = ""}};
  std::atomic<int> running{0}, most{0};
  h.kinds.add("gpu", [&](jobs::job_context&) -> asio::awaitable<jobs::outcome> {
    const int now = ++running;
    for (int seen = most; now > seen && !most.compare_exchange_weak(seen, now);) {
    }
    co_await sleep_for(40ms);
    --running;
    co_return jobs::outcome::success();
  });
  h.kinds.add("cpu", [](jobs::job_context&) -> asio::awaitable<jobs::outcome> {
    co_return jobs::outcome::success();
  });
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    std::vector<jobs::job_id> gpu;
    for (int i = 0; i < 12; ++i) gpu.push_back(co_await enqueue(rt, "gpu"));
    const auto cpu = co_await enqueue(rt, "cpu");
    auto c = co_await await_job(rt, cpu, in_state(jobs::state::completed), 5s);
    auto last = co_await await_job(rt, gpu.back(), in_state(jobs::state::completed), 10s);
    BOOST_TEST((c.finalized_at < last.attempted_at), "the cpu job waited for the gpu jobs");
    for (auto id : gpu) co_await await_job(rt, id, in_state(jobs::state::completed), 10s);
  });
  BOOST_TEST(most.load() == 2);
}
