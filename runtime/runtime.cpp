#include "runtime/runtime.hpp"

#include <spool/version.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "jobs/validation.hpp"
#include "persistence/db_executor.hpp"
#include "persistence/pg_listener.hpp"
#include "persistence/database_url.hpp"
#include "runtime/core.hpp"
#include "runtime/log.hpp"
#include "runtime/maintenance.hpp"
#include "runtime/periodic_service.hpp"
#include "runtime/producer.hpp"
#include "runtime/queue_pauses.hpp"
#include "runtime/spawn.hpp"

namespace spool::runtime {
namespace asio = boost::asio;
using namespace std::chrono_literals;

int io_threads(const config::settings& s) {
  if (s.workers > 0) return s.workers;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return store::backend_of(s.db) == store::backend::sqlite ? std::max(1, cores - 1) : cores;
}

namespace {
int pool_size(const config::settings& s) {
  if (s.db_pool > 0) return s.db_pool;
  return store::backend_of(s.db) == store::backend::postgresql ? 4 : 1;
}

store::open_options store_options(const config::settings& s, std::vector<store::schema> schemas) {
  return {.relaxed_enqueue = s.enqueue_durability == "relaxed", .schemas = std::move(schemas)};
}
}  // namespace

struct runtime::impl final : producer_signals {
  impl(asio::any_io_executor ex, config::settings s, jobs::registry kinds,
       std::vector<store::schema> schemas)
      : db(
            [url = s.db, options = store_options(s, std::move(schemas))] {
              auto st = store::open(url, options);
              st->migrate();
              return st;
            },
            pool_size(s)),
        c(ex, s, std::move(kinds), db, make_worker_id()),
        maint(c),
        periodic(c),
        pauses(c, [this](const std::string& queue, bool paused) {
          auto it = producers.find(queue);
          if (it == producers.end()) return false;
          it->second->pause(paused);
          return true;
        }) {
    for (auto& [queue, concurrency] : c.settings.queues)
      producers.emplace(queue, std::make_unique<producer>(c, queue, concurrency));
    c.producers = this;
    if (store::backend_of(c.settings.db) == store::backend::postgresql)
      listener = std::make_unique<store::pg_listener>(c.settings.db, listener_handlers());
  }

  // Another node's enqueue wakes the queue's producer here; after a (re)connect every queue looks
  // for work once, as notifications sent meanwhile are lost.
  store::pg_listener::handlers listener_handlers() {
    return {
        .notified =
            [this](std::string_view payload) {
              if (payload.starts_with(probe_prefix)) {
                std::lock_guard lock(probe_mutex);
                if (payload == probe_token) probe_seen = true;
                return;
              }
              if (producers.contains(payload)) c.stats.queue_notifications++;
              c.notify(payload, jobs::now());
            },
        .connected =
            [this] {
              log::info("listener_connected").kv("channel", store::notify_channel);
              for (auto& [name, _] : producers) c.notify(name, jobs::now());
            },
        .failed =
            [](const std::string& error, std::chrono::milliseconds retry_in) {
              log::warn("listener_failed").kv("error", error)
                  .kv("retry_in_ms", static_cast<std::int64_t>(retry_in.count()));
            },
    };
  }

  void notify(std::string_view queue, jobs::time_point due) override {
    if (auto it = producers.find(queue); it != producers.end()) it->second->notify(due);
  }
  void cancel(jobs::job_id id, cancel_reason why) override {
    for (auto& [_, p] : producers) p->cancel(id, why);
  }

  static constexpr std::string_view probe_prefix = "spool-probe:";
  asio::awaitable<void> probe_notifications();

  store::db_executor db;
  core c;
  std::map<std::string, std::unique_ptr<producer>, std::less<>> producers;
  maintenance maint;
  periodic_service periodic;
  queue_pauses pauses;
  std::unique_ptr<store::pg_listener> listener;  // PostgreSQL only
  std::mutex probe_mutex;
  std::string probe_token;  // guarded by probe_mutex
  std::atomic<bool> probe_seen{false};
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> hurry{false};
  std::atomic<int> live_producers{0};
  std::atomic<int> live_services{0};
};

namespace {

asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

// Waits until pred() holds or `limit` passes; returns pred().
template <class Pred>
asio::awaitable<bool> wait_until(Pred pred, std::chrono::steady_clock::duration limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred() && std::chrono::steady_clock::now() < deadline) co_await sleep_for(5ms);
  co_return pred();
}

}  // namespace

// Checks at start-up that a NOTIFY sent through the store's connections reaches this node's
// LISTEN connection. Behind a transaction-pooling proxy it does not: the node then relies on its
// fallback poll, and says so.
asio::awaitable<void> runtime::impl::probe_notifications() {
  if (!co_await wait_until([this] { return listener->connected() || stop_requested; }, 10s)) {
    log::warn("notifications_unavailable").kv("reason", "the LISTEN connection did not connect")
        .kv("fallback_poll_s", c.settings.poll_interval_s);
    co_return;
  }
  std::string token = std::string(probe_prefix) + c.worker_id;
  {
    std::lock_guard lock(probe_mutex);
    probe_token = token;
  }
  try {
    auto send = [token](store::store& s) { s.notify(token); };
    co_await db.run(std::move(send));
  } catch (const std::exception& e) {
    log::warn("notifications_probe_failed").kv("error", e.what());
    co_return;
  }
  if (co_await wait_until([this] { return probe_seen.load(); }, 3s)) {
    log::info("notifications_ok").kv("channel", store::notify_channel);
  } else {
    log::warn("notifications_unavailable")
        .kv("reason", "a NOTIFY sent through the pool did not reach the LISTEN connection "
                      "(a transaction-pooling proxy between Spool and PostgreSQL?)")
        .kv("fallback_poll_s", c.settings.poll_interval_s);
  }
}

runtime::runtime(asio::any_io_executor executor, config::settings settings, jobs::registry kinds)
    : runtime(std::move(executor), std::move(settings), std::move(kinds), {}) {}

runtime::runtime(asio::any_io_executor executor, config::settings settings, jobs::registry kinds,
                 std::vector<store::schema> schemas) {
  config::validate(settings);
  // A `kinds` entry for a kind nothing runs is most likely a misspelt name: refuse it, as an
  // unknown key is refused.
  for (auto& [name, _] : settings.kinds) {
    if (kinds.find(name)) continue;
    std::string known;
    for (auto& k : kinds.kinds()) known += (known.empty() ? "" : ", ") + k;
    throw config::config_error(settings.where("kinds." + name) + ": no kind '" + name +
                               "' is registered (registered: " + (known.empty() ? "none" : known) + ")");
  }
  // A periodic job of a kind nothing here runs would fail at every tick: refuse it too.
  for (std::size_t i = 0; i < settings.periodic.size(); ++i) {
    const auto& kind = settings.periodic[i].kind;
    if (kinds.find(kind)) continue;
    const auto key = "periodic[" + std::to_string(i) + "].kind";
    throw config::config_error(settings.where(key) + ": no kind '" + kind + "' is registered");
  }
  log::configure(settings.log_format, settings.log_level);
  impl_ = std::make_unique<impl>(std::move(executor), std::move(settings), std::move(kinds),
                                 std::move(schemas));
}

runtime::~runtime() = default;

const std::string& runtime::worker_id() const { return impl_->c.worker_id; }
const jobs::registry& runtime::kinds() const { return impl_->c.registry; }
store::db_executor& internal_access::db(runtime& rt) { return rt.impl_->db; }
metrics& internal_access::stats(runtime& rt) { return rt.impl_->c.stats; }
const metrics& internal_access::stats(const runtime& rt) { return rt.impl_->c.stats; }
bool internal_access::leads(const runtime& rt) { return rt.impl_->c.leader.load(std::memory_order_relaxed); }
std::uint64_t runtime::committed() const { return impl_->c.committed.load(); }
int runtime::in_flight() const { return impl_->c.in_flight.load(); }

std::vector<std::string> runtime::queues() const {
  std::vector<std::string> out;
  for (auto& [q, _] : impl_->producers) out.push_back(q);
  return out;
}

asio::awaitable<std::vector<jobs::enqueue_result>> runtime::enqueue(std::vector<jobs::new_job> batch) {
  return impl_->c.enqueue(std::move(batch));
}

asio::awaitable<jobs::cancel_result> runtime::cancel(jobs::job_id id) {
  auto result = co_await impl_->db.run([id](store::store& s) { return s.cancel(id, jobs::now()); });
  if (result == store::cancel_result::requested)
    impl_->c.cancel(id, cancel_reason::operator_request);
  co_return result;
}

asio::awaitable<jobs::retry_result> runtime::retry_now(jobs::job_id id) {
  auto move = [id](store::store& s) { return s.retry_now(id, jobs::now()); };
  auto result = co_await impl_->db.run(std::move(move));
  if (result == store::retry_result::moved) {
    auto get = [id](store::store& s) {
      auto j = s.get(id, jobs::now());
      if (j) s.notify(j->queue);  // wakes the other nodes serving the queue
      return j;
    };
    if (auto j = co_await impl_->db.run(std::move(get))) impl_->c.notify(j->queue, jobs::now());
  }
  co_return result;
}

std::vector<runtime::queue_info> runtime::queue_infos() const {
  std::vector<queue_info> out;
  for (auto& [name, p] : impl_->producers)
    out.push_back({name, p->concurrency(), p->paused(), p->running()});
  return out;
}

bool runtime::report_progress(std::string_view attempt_token, jobs::job_id id, double fraction,
                              std::string_view note) {
  if (auto why = jobs::check_progress(fraction)) throw std::invalid_argument(*why);
  return impl_->c.tokens.report(attempt_token, id, fraction, jobs::clip_progress_note(note));
}

asio::awaitable<void> runtime::pause(std::string queue, bool paused) {
  return impl_->pauses.set(std::move(queue), paused);
}

void runtime::wake() {
  for (auto& [name, _] : impl_->producers) impl_->c.notify(name, jobs::now());
}

bool runtime::draining() const { return impl_->c.draining || impl_->stop_requested; }
const config::settings& runtime::settings() const { return impl_->c.settings; }

void runtime::stop() { impl_->stop_requested = true; }

void runtime::stop_now() {
  impl_->hurry = true;
  impl_->stop_requested = true;
}

asio::awaitable<void> runtime::run() {
  auto& m = *impl_;
  auto& c = m.c;
  auto ex = co_await asio::this_coro::executor;
  log::info("runtime_started").kv("worker", c.worker_id).kv("db", c.settings.db)
      .kv("queues", m.producers.size()).kv("version", SPOOL_VERSION)
      .kv("enqueue_durability", c.settings.enqueue_durability);
  if (store::backend_of(c.settings.db) == store::backend::sqlite && store::locate(c.settings.db).in_memory)
    log::warn("sqlite_without_wal").kv("db", c.settings.db).kv("journal_mode", "memory")
        .kv("reason", "an in-memory database cannot use WAL; its jobs end with the process");

  // Registers this node; the leader first returns the jobs of workers that died meanwhile.
  if (co_await m.maint.lead_once()) {
    try {
      while (co_await m.maint.rescue_once() == 1000) {
      }
    } catch (const std::exception& e) {
      log::error("rescue_failed").kv("error", e.what());
    }
  }

  // Queues paused in the database claim nothing from the start.
  try {
    co_await m.pauses.sync_once();
  } catch (const std::exception& e) {
    log::error("pause_sync_failed").kv("error", e.what());
  }

  for (auto& [_, p] : m.producers) {
    ++m.live_producers;
    asio::co_spawn(p->strand(), p->run(), [&m, name = p->queue()](std::exception_ptr e) {
      log_escape("producer")(e);
      --m.live_producers;
    });
  }
  auto service = [&m](const char* name) {
    ++m.live_services;
    return [&m, name](std::exception_ptr e) {
      log_escape(name)(e);
      --m.live_services;
    };
  };
  for (auto& [_, p] : m.producers)
    asio::co_spawn(p->strand(), p->watch_deadlines(), service("deadline_watcher"));
  asio::co_spawn(ex, m.maint.run_lease_keeper(), service("lease_keeper"));
  asio::co_spawn(ex, m.maint.run_progress_keeper(), service("progress_keeper"));
  asio::co_spawn(ex, m.maint.run_rescuer(), service("rescuer"));
  asio::co_spawn(ex, m.maint.run_pruner(), service("pruner"));
  asio::co_spawn(ex, m.maint.run_cancel_watcher(), service("cancel_watcher"));
  asio::co_spawn(ex, m.maint.run_leadership(), service("leadership"));
  asio::co_spawn(ex, m.periodic.run(), service("periodic"));
  asio::co_spawn(ex, m.pauses.run(), service("queue_pauses"));
  if (m.listener) {
    asio::co_spawn(ex, m.listener->run(), service("listener"));
    asio::co_spawn(ex, m.probe_notifications(), service("notification_probe"));
  }

  while (!m.stop_requested) co_await sleep_for(20ms);

  c.draining = true;
  log::info("shutdown_started").kv("in_flight", c.in_flight.load())
      .kv("grace_s", m.hurry ? 0.0 : c.settings.grace_s);
  for (auto& [_, p] : m.producers) p->stop();  // claim nothing more

  const auto grace = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(c.settings.grace_s));
  co_await wait_until([&] { return c.in_flight == 0 || m.hurry; }, grace);
  if (c.in_flight > 0) {
    log::warn("shutdown_cancelling").kv("in_flight", c.in_flight.load());
    for (auto& [_, p] : m.producers) p->cancel_all(cancel_reason::shutdown);
    if (!co_await wait_until([&] { return c.in_flight == 0; }, 10s)) {
      log::error("shutdown_abandoning").kv("in_flight", c.in_flight.load())
          .kv("reason", "handlers ignored cancellation; their leases will expire");
      for (auto& [_, p] : m.producers) p->abandon();
    }
  }
  // The producers return once the outcomes of their attempts are committed.
  while (m.live_producers > 0) co_await sleep_for(5ms);
  m.maint.stop();
  m.periodic.stop();
  m.pauses.stop();
  if (m.listener) m.listener->stop();
  co_await wait_until([&] { return m.live_services == 0; }, 10s);
  co_await m.maint.leave();
  log::info("shutdown_complete");
}

}  // namespace spool::runtime
