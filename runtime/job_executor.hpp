#pragma once
// The executor an attempt runs on: a strand of its queue, with the watchdog marking the thread
// busy with the attempt's job for each step (watchdog.hpp). It holds a pointer to where the
// attempt runs and one flag, so it fits into any_io_executor's in-place storage: the many copies
// Asio makes of a coroutine's executor allocate nothing.
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/require.hpp>
#include <boost/asio/strand.hpp>

#include "jobs/job.hpp"
#include "runtime/watchdog.hpp"

namespace spool::runtime {

// One strand of a queue's attempts, in both blocking modes.
struct job_strand {
  using strand_type = boost::asio::strand<boost::asio::any_io_executor>;
  explicit job_strand(strand_type s)
      : possibly(s), never(boost::asio::require(s, boost::asio::execution::blocking.never)) {}
  strand_type possibly;  // dispatch runs inline when already on it
  strand_type never;     // the same strand, for post
};

// Where an attempt runs. Stable in memory for as long as any attempt may use it.
struct job_site {
  job_site(const job_strand& s, watchdog& d) : strand(&s), dog(&d) {}
  const job_strand* strand;
  watchdog* dog;
  std::atomic<jobs::job_id> job{0};  // the attempt's job, for the watchdog's marks
};

class job_executor {
 public:
  explicit job_executor(job_site& site, bool never = false) noexcept : site_(&site), never_(never) {}

  boost::asio::execution_context& query(boost::asio::execution::context_t) const noexcept {
    return boost::asio::query(site_->strand->possibly, boost::asio::execution::context);
  }
  boost::asio::execution::blocking_t query(boost::asio::execution::blocking_t) const noexcept {
    if (never_) return boost::asio::execution::blocking.never;
    return boost::asio::execution::blocking.possibly;
  }
  job_executor require(boost::asio::execution::blocking_t::never_t) const noexcept {
    return job_executor(*site_, true);
  }
  job_executor require(boost::asio::execution::blocking_t::possibly_t) const noexcept {
    return job_executor(*site_, false);
  }

  template <class F>
  void execute(F&& f) const {
    job_site* site = site_;
    const auto& strand = never_ ? site->strand->never : site->strand->possibly;
    strand.execute([site, f = std::forward<F>(f)]() mutable {
      watchdog::busy mark(*site->dog, site->job.load(std::memory_order_relaxed));
      std::move(f)();
    });
  }

  friend bool operator==(const job_executor& a, const job_executor& b) noexcept {
    return a.site_ == b.site_ && a.never_ == b.never_;
  }
  friend bool operator!=(const job_executor& a, const job_executor& b) noexcept { return !(a == b); }

 private:
  job_site* site_;
  bool never_;
};

}  // namespace spool::runtime
