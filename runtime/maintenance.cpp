#include "runtime/maintenance.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>

#include "jobs/lifecycle.hpp"
#include "runtime/log.hpp"
#include "runtime/retention.hpp"

namespace spool::runtime {
namespace asio = boost::asio;

maintenance::maintenance(core& c) : core_(c) {}

void maintenance::stop() { stopped_ = true; }

asio::awaitable<bool> maintenance::sleep(jobs::duration d) {
  // Short steps, so that stop() takes effect quickly without a cross-thread timer cancel.
  const auto until = std::chrono::steady_clock::now() + d;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!stopped_ && std::chrono::steady_clock::now() < until) {
    timer.expires_at(std::min(until, std::chrono::steady_clock::now() + std::chrono::milliseconds(50)));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return !stopped_;
}

asio::awaitable<void> maintenance::run_lease_keeper() {
  while (co_await sleep(core_.lease() / 3)) {
    auto leases = core_.leases.live();
    if (leases.empty()) continue;
    try {
      // Named lambdas, not temporaries inside co_await: GCC 12 mis-moves their captures.
      auto renew = [leases, until = jobs::now() + core_.lease()](store::store& s) {
        s.renew(leases, until);
      };
      co_await core_.db.run(std::move(renew));
      log::debug("leases_renewed").kv("leases", leases.size());
    } catch (const std::exception& e) {
      log::error("lease_renewal_failed").kv("leases", leases.size()).kv("error", e.what());
    }
  }
}

asio::awaitable<std::size_t> maintenance::store_progress_once() {
  auto updates = core_.progress.take_unstored();
  if (updates.empty()) co_return 0;
  // Named lambda, not a temporary inside co_await: GCC 12 mis-moves captures.
  auto store = [updates](store::store& s) { s.record_progress(updates); };
  co_await core_.db.run(std::move(store));
  co_return updates.size();
}

asio::awaitable<void> maintenance::run_progress_keeper() {
  // At most one write per job per pass: so a job is written at most every 500 ms.
  while (co_await sleep(std::chrono::milliseconds(500))) {
    try {
      if (auto n = co_await store_progress_once()) log::debug("progress_stored").kv("jobs", n);
    } catch (const std::exception& e) {
      // The reports are newer next time; a lost one is only a stale display.
      log::warn("progress_store_failed").kv("error", e.what());
    }
  }
}

asio::awaitable<std::size_t> maintenance::rescue_once() {
  const auto now = jobs::now();
  // Named lambda, not a temporary inside co_await: GCC 12 mis-moves captures.
  auto find = [now](store::store& s) {
    auto expired = s.expired(now, 1000);
    // Cancels asked for while these jobs ran: their worker died before it could act on them.
    std::vector<jobs::job_id> cancels;
    if (!expired.empty()) cancels = s.cancel_requests();
    return std::pair{std::move(expired), std::move(cancels)};
  };
  auto found = co_await core_.db.run(std::move(find));
  const auto& expired = found.first;
  if (expired.empty()) co_return 0;
  std::vector<jobs::completion> changes;
  for (auto& e : expired) {
    const auto options = core_.options_for(e.kind);
    // A requested cancel outlives the worker: the job ends cancelled instead of running again.
    const bool cancel =
        std::find(found.second.begin(), found.second.end(), e.id) != found.second.end();
    auto t = jobs::decide(cancel ? jobs::outcome::cancel("cancelled by operator")
                                 : jobs::outcome::error(std::string(jobs::worker_lost_message)),
                          e.attempt, e.max_attempts, options.retry, now, thread_rng());
    changes.push_back({e.id, e.lease, std::move(t)});
  }
  auto apply = [changes](store::store& s) { return s.complete(changes); };
  auto stale = co_await core_.db.run(std::move(apply));
  std::size_t rescued = 0;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const auto& c = changes[i];
    if (std::find(stale.begin(), stale.end(), c.id) != stale.end()) continue;  // finished meanwhile
    ++rescued;
    core_.stats.rescued++;
    using to = jobs::transition::to;
    const auto next = c.change.next;
    log::warn("job_rescued").kv("job_id", c.id).kv("kind", expired[i].kind)
        .kv("queue", expired[i].queue).kv("attempt", expired[i].attempt)
        .kv("next", next == to::dead ? "dead" : next == to::cancelled ? "cancelled" : "retry");
    if (next == to::retry) core_.notify(expired[i].queue, c.change.run_at);
  }
  co_return rescued;
}

asio::awaitable<std::int64_t> maintenance::settle_pending_once() {
  auto settle = [now = jobs::now()](store::store& s) { return s.settle_pending(now, 1000); };
  const auto settled = co_await core_.db.run(std::move(settle));
  if (settled > 0) {
    log::warn("pending_jobs_settled").kv("jobs", settled)
        .kv("why", "their parents ended without settling them (a process died in between, or a dependency was "
                   "added while its parent completed)");
    for (const auto& [queue, _] : core_.settings.queues) core_.notify(queue, jobs::now());
  }
  co_return settled;
}

asio::awaitable<void> maintenance::run_rescuer() {
  const auto interval = std::chrono::duration_cast<jobs::duration>(
      std::chrono::duration<double>(core_.settings.rescue_interval_s));
  // A plain loop: GCC 12 skips the co_await of a do-while condition reached by `continue`.
  for (;;) {
    if (core_.leader) {
      try {
        while (co_await rescue_once() == 1000) {
        }
      } catch (const std::exception& e) {
        log::error("rescue_failed").kv("error", e.what());
      }
      try {
        co_await settle_pending_once();
      } catch (const std::exception& e) {
        log::error("settle_pending_failed").kv("error", e.what());
      }
    }
    if (!co_await sleep(interval)) break;
  }
}

asio::awaitable<std::int64_t> maintenance::prune_once(int batch) {
  std::int64_t total = 0;
  for (const auto& request : prune_plan(core_.settings.retention, jobs::now(), batch)) {
    // Batch after batch, each its own short transaction, so that claims and completions go on
    // between them; a full batch means there may be more.
    for (;;) {
      auto prune = [request](store::store& s) { return s.prune(request); };
      const auto n = co_await core_.db.run(std::move(prune));
      total += n;
      core_.stats.pruned(request.state) += static_cast<std::uint64_t>(n);
      if (n < batch || stopped_) break;
    }
    if (stopped_) break;
  }
  if (total > 0) log::info("jobs_pruned").kv("jobs", total);
  co_return total;
}

asio::awaitable<void> maintenance::run_pruner() {
  const auto interval = std::chrono::duration_cast<jobs::duration>(
      std::chrono::duration<double>(core_.settings.retention.interval_s));
  for (;;) {
    if (core_.leader) {
      try {
        co_await prune_once();
      } catch (const std::exception& e) {
        log::error("prune_failed").kv("error", e.what());
      }
    }
    if (!co_await sleep(interval)) break;
  }
}

asio::awaitable<bool> maintenance::lead_once() {
  const bool was = core_.leader;
  bool leads = was;
  try {
    auto round = [node = core_.node(), ttl = core_.leader_ttl(), prune = was](store::store& s) {
      const auto now = jobs::now();
      s.heartbeat(node, now);
      const bool leads = s.lead(node.id, now, ttl);
      // Every restart registers a new node id: the leader forgets those silent for an hour.
      if (leads && prune) s.forget_nodes_before(now - std::chrono::hours(1));
      return leads;
    };
    leads = co_await core_.db.run(std::move(round));
  } catch (const std::exception& e) {
    // Unable to renew: give the leadership up here too, as another node may take it on expiry.
    leads = false;
    log::error("leadership_round_failed").kv("error", e.what());
  }
  core_.leader = leads;
  if (leads != was) {
    log::line(leads ? log::level::info : log::level::warn, leads ? "leader_elected" : "leader_lost")
        .kv("node", core_.worker_id);
  }
  co_return leads;
}

asio::awaitable<void> maintenance::run_leadership() {
  while (co_await sleep(core_.leader_ttl() / 3)) {
    const bool was = core_.leader;
    if (co_await lead_once() && !was) {
      try {  // a new leader rescues at once: its predecessor may have died with running jobs
        while (co_await rescue_once() == 1000) {
        }
      } catch (const std::exception& e) {
        log::error("rescue_failed").kv("error", e.what());
      }
    }
  }
}

asio::awaitable<void> maintenance::leave() {
  try {
    auto bye = [id = core_.worker_id](store::store& s) {
      s.resign(id);
      s.forget_node(id);
    };
    co_await core_.db.run(std::move(bye));
    if (core_.leader.exchange(false)) log::info("leader_resigned").kv("node", core_.worker_id);
  } catch (const std::exception& e) {
    log::warn("leave_failed").kv("error", e.what());
  }
}

asio::awaitable<void> maintenance::run_cancel_watcher() {
  while (co_await sleep(core_.poll_interval())) {
    try {
      auto ids = co_await core_.db.run([](store::store& s) { return s.cancel_requests(); });
      for (auto id : ids) core_.cancel(id, cancel_reason::operator_request);
    } catch (const std::exception& e) {
      log::error("cancel_watch_failed").kv("error", e.what());
    }
  }
}

}  // namespace spool::runtime
