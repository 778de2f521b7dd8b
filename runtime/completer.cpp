#include "runtime/completer.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <set>

#include "runtime/completion_batch.hpp"
#include "runtime/log.hpp"
#include "runtime/producer.hpp"
#include "runtime/spawn.hpp"

namespace spool::runtime {
namespace asio = boost::asio;
using namespace std::chrono_literals;

completer::completer(core& c) : core_(c), strand_(asio::make_strand(c.executor)) {}

void completer::submit(finished_attempt f) {
  asio::post(strand_, [this, f = std::move(f)]() mutable {
    buffer_.push_back(std::move(f));
    if (!flushing_) {
      flushing_ = true;
      asio::co_spawn(strand_, flush(), log_escape("completer"));
    }
  });
}

asio::awaitable<void> completer::flush() {
  auto backoff = std::chrono::milliseconds(50);
  while (!buffer_.empty()) {
    auto batch = take_batch(buffer_, [](const finished_attempt& f) { return f.completion.id; });
    std::vector<jobs::completion> changes;
    changes.reserve(batch.size());
    for (auto& f : batch) changes.push_back(f.completion);
    bool failed = false;
    try {
      // Named, not a temporary inside co_await: GCC 12 mis-moves such lambdas' captures.
      auto apply = [changes = std::move(changes),
                    &timing = core_.stats.db_operation("complete")](store::store& s) {
        const auto started = std::chrono::steady_clock::now();
        auto stale = s.complete(changes);
        timing.observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        return stale;
      };
      auto stale = co_await core_.db.run(std::move(apply));
      backoff = std::chrono::milliseconds(50);
      const std::set<jobs::job_id> rejected(stale.begin(), stale.end());
      std::map<jobs::lease_id, int> done;
      for (auto& f : batch) {
        const auto& c = f.completion;
        ++done[c.lease];
        if (rejected.count(c.id)) {
          core_.stats.rejected_completions++;
          log::warn("completion_rejected")
              .kv("job_id", c.id)
              .kv("kind", f.kind)
              .kv("reason", "lease lost: another worker took the job over");
        } else if (c.change.next == jobs::transition::to::retry ||
                   c.change.next == jobs::transition::to::requeue) {
          core_.notify(f.queue, c.change.run_at);
        }
      }
      core_.leases.release(done);
      for (auto& f : batch)
        if (auto p = core_.producers.find(f.queue); p != core_.producers.end())
          p->second->committed(f.completion.id);
      core_.committed.fetch_add(batch.size() - rejected.size(), std::memory_order_relaxed);
    } catch (const std::exception& e) {
      log::error("completion_flush_failed")
          .kv("jobs", batch.size())
          .kv("error", e.what())
          .kv("retry_in_ms", static_cast<std::int64_t>(backoff.count()));
      buffer_.insert(buffer_.begin(), std::make_move_iterator(batch.begin()),
                     std::make_move_iterator(batch.end()));
      failed = true;
    }
    if (failed) {  // keep the batch; a completion is never dropped
      asio::steady_timer wait(strand_, backoff);
      co_await wait.async_wait(asio::use_awaitable);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }
  flushing_ = false;
}

asio::awaitable<void> completer::drain() {
  for (;;) {
    const bool busy = co_await asio::co_spawn(
        strand_, [this]() -> asio::awaitable<bool> { co_return flushing_ || !buffer_.empty(); },
        asio::use_awaitable);
    if (!busy) co_return;
    asio::steady_timer wait(co_await asio::this_coro::executor, 2ms);
    co_await wait.async_wait(asio::use_awaitable);
  }
}

}  // namespace spool::runtime
