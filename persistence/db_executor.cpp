#include "persistence/db_executor.hpp"

#include <algorithm>

namespace spool::store {
namespace asio = boost::asio;

db_executor::db_executor(const opener& open, int connections) {
  for (int i = 0; i < std::max(connections, 1); ++i)
    pool_.push_back(std::make_unique<serial_executor<store>>(open));
}

serial_executor<store>& db_executor::least_busy() {
  auto* best = pool_.front().get();
  for (auto& e : pool_)
    if (e->queued() < best->queued()) best = e.get();
  return *best;
}

asio::awaitable<std::vector<insert_result>> db_executor::insert(std::vector<jobs::new_job> batch,
                                                                 committed_fn on_commit) {
  // Not a coroutine: see serial_executor::run.
  auto init = [this, batch = std::move(batch), on_commit = std::move(on_commit)](auto handler) mutable {
    auto work = asio::make_work_guard(asio::get_associated_executor(handler));
    // Move-only handler, copyable std::function: share it.
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    deliver_fn deliver = [shared, work](std::exception_ptr e, std::vector<insert_result> r) {
      detail::complete_on_own_executor(std::move(*shared), e, std::move(r));
    };
    auto& first = *pool_.front();
    first.post([this, &first, batch = std::move(batch), deliver = std::move(deliver),
                on_commit = std::move(on_commit)](store&) mutable {
      pending_.push_back({std::move(batch), std::move(deliver), std::move(on_commit)});
      // Everything posted before the flush runs joins its transaction.
      if (!flush_posted_) {
        flush_posted_ = true;
        first.post([this](store& s) { flush_inserts(s); });
      }
    });
  };
  return asio::async_initiate<decltype(asio::use_awaitable),
                              void(std::exception_ptr, std::vector<insert_result>)>(
      std::move(init), asio::use_awaitable);
}

void db_executor::stand(standing_claim claim) {
  pool_.front()->post([this, claim = std::move(claim)](store&) mutable {
    auto queue = claim.queue;
    stands_.insert_or_assign(std::move(queue), std::move(claim));
  });
}

void db_executor::withdraw(std::string queue, std::function<void()> withdrawn) {
  pool_.front()->post([this, queue = std::move(queue), withdrawn = std::move(withdrawn)](store&) {
    if (stands_.erase(queue) > 0) withdrawn();
  });
}

void db_executor::flush_inserts(store& s) {
  flush_posted_ = false;
  auto group = std::move(pending_);
  pending_.clear();
  // An enqueue with dependencies commits in a transaction of its own: its `needs` count within
  // its own batch, and an unknown parent refuses that enqueue alone, not the others of the group.
  for (auto it = group.begin(); it != group.end();) {
    if (!any_dependencies(it->jobs)) {
      ++it;
      continue;
    }
    std::exception_ptr error;
    std::vector<insert_result> mine;
    try {
      mine = s.insert(it->jobs, jobs::now());
    } catch (...) {
      error = std::current_exception();
    }
    if (!error && it->on_commit) it->on_commit(it->jobs, mine, {});
    it->deliver(error, std::move(mine));
    it = group.erase(it);
  }
  if (group.empty()) return;
  std::vector<jobs::new_job> all;
  for (auto& p : group)
    for (auto& j : p.jobs) all.push_back(std::move(j));
  const auto now = jobs::now();
  // The standing claims this transaction makes: their queue gets a due job.
  std::vector<standing_claim> made;
  std::vector<claim_request> claims;
  for (const auto& j : all) {
    if (j.run_at.value_or(now) > now) continue;
    auto it = stands_.find(j.queue);
    if (it == stands_.end() || !it->second.allowed()) continue;
    claims.push_back({.queue = it->second.queue, .limit = it->second.limit,
                      .worker = it->second.worker, .now = now, .lease_until = now + it->second.lease,
                      .limits = it->second.limits});
    made.push_back(std::move(it->second));
    stands_.erase(it);
  }
  std::exception_ptr error;
  insert_and_claim_result done;
  try {
    done = s.insert_and_claim(all, now, claims);
  } catch (...) {
    error = std::current_exception();
    for (auto& c : made) {  // not made: they stand for the next transaction
      auto queue = c.queue;
      stands_.emplace(std::move(queue), std::move(c));
    }
  }
  served_queues served;
  if (!error)
    for (std::size_t i = 0; i < made.size(); ++i) {
      if (static_cast<int>(done.claimed[i].size()) < made[i].limit) served.emplace(made[i].queue, now);
      made[i].claimed(std::move(done.claimed[i]));
    }
  std::size_t offset = 0;
  for (auto& p : group) {
    std::vector<insert_result> mine;
    if (!error) {
      const auto n = p.jobs.size();
      mine.assign(done.inserted.begin() + offset, done.inserted.begin() + offset + n);
      if (p.on_commit) p.on_commit(std::span(all).subspan(offset, n), mine, served);
      offset += n;
    }
    p.deliver(error, std::move(mine));
  }
}

}  // namespace spool::store
