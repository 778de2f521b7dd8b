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

void db_executor::flush_inserts(store& s) {
  flush_posted_ = false;
  auto group = std::move(pending_);
  pending_.clear();
  std::vector<jobs::new_job> all;
  for (auto& p : group)
    for (auto& j : p.jobs) all.push_back(std::move(j));
  std::exception_ptr error;
  std::vector<insert_result> results;
  try {
    results = s.insert(all, jobs::now());
  } catch (...) {
    error = std::current_exception();
  }
  std::size_t offset = 0;
  for (auto& p : group) {
    std::vector<insert_result> mine;
    if (!error) {
      const auto n = p.jobs.size();
      mine.assign(results.begin() + offset, results.begin() + offset + n);
      if (p.on_commit) p.on_commit(std::span(all).subspan(offset, n), mine);
      offset += n;
    }
    p.deliver(error, std::move(mine));
  }
}

}  // namespace spool::store
