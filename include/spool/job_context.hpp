#pragma once
// What a job kind's code sees, and what it must look like.
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <string_view>
#include <vector>

#include <spool/job.hpp>
#include <spool/outcome.hpp>

namespace spool::jobs {

class job_context {
 public:
  using log_fn = std::function<void(const claimed_job&, std::string_view)>;
  using enqueue_fn =
      std::function<boost::asio::awaitable<std::vector<enqueue_result>>(std::vector<new_job>)>;

  job_context(const claimed_job& job, const boost::json::object& payload, const log_fn& log,
              const enqueue_fn& enqueue)
      : job_(job), payload_(payload), log_(log), enqueue_(enqueue) {}

  const claimed_job& job() const { return job_; }
  const boost::json::object& payload() const { return payload_; }
  int attempt() const { return job_.attempt; }
  // One structured log line tagged with the job's id, kind and attempt.
  void log(std::string_view message) const {
    if (log_) log_(job_, message);
  }
  // Durable enqueue from inside a job (e.g. a follow-up job), through the runtime.
  boost::asio::awaitable<std::vector<enqueue_result>> enqueue(std::vector<new_job> jobs) const {
    return enqueue_(std::move(jobs));
  }

 private:
  const claimed_job& job_;
  const boost::json::object& payload_;
  const log_fn& log_;
  const enqueue_fn& enqueue_;
};

// A handler is a coroutine. It runs on the job's own strand and may be cancelled (timeout,
// operator cancel, shutdown) through its coroutine's cancellation slot. Throwing is a retryable
// failure; throwing permanent_error is a permanent one.
using handler = std::function<boost::asio::awaitable<outcome>(job_context&)>;

}  // namespace spool::jobs
