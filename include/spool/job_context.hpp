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
  // Takes a checked progress report (fraction in 0..1, note clipped) for the runtime to store.
  using progress_fn = std::function<void(const claimed_job&, double, std::string)>;
  // Issues (once per attempt) the token of attempt_token().
  using token_fn = std::function<std::string(const claimed_job&)>;
  // Reads the parents of a job, for parent_results().
  using parents_fn = std::function<boost::asio::awaitable<std::vector<parent_result>>(job_id)>;

  // `follow_ups` collects what enqueue() is given, for the runtime to commit with the attempt;
  // `progress`, if given, receives progress() reports; `token` issues attempt_token().
  job_context(const claimed_job& job, const boost::json::object& payload, const log_fn& log,
              std::vector<new_job>& follow_ups, const progress_fn* progress = nullptr,
              const token_fn* token = nullptr, const parents_fn* parents = nullptr)
      : job_(job), payload_(payload), log_(log), follow_ups_(follow_ups), progress_(progress),
        token_(token), parents_(parents) {}

  const claimed_job& job() const { return job_; }
  const boost::json::object& payload() const { return payload_; }
  int attempt() const { return job_.attempt; }
  // One structured log line tagged with the job's id, kind and attempt.
  void log(std::string_view message) const {
    if (log_) log_(job_, message);
  }
  // Follow-up jobs. They are committed in the same transaction as this attempt's success, and
  // only if that completion is accepted (the attempt still holds the job's lease); an attempt
  // that fails, snoozes, is cancelled or lost its lease enqueues nothing. So a follow-up exists
  // exactly once however often the job runs, and a crash cannot separate it from the success.
  // Throws std::invalid_argument at once for a job that could never be stored.
  void enqueue(std::vector<new_job> jobs);
  void enqueue(new_job job);
  // The follow-ups enqueued so far in this attempt.
  const std::vector<new_job>& follow_ups() const { return follow_ups_; }

  // How far this attempt has come: `fraction` from 0 to 1 and a short note (cut at 1 KiB).
  // Cheap to call often: the runtime keeps the latest report and stores it with the running
  // job at most every 500 ms, in one statement for all of the process's jobs; operators see it
  // in `spool jobs show`, the API and the dashboard until the attempt ends. Throws
  // std::invalid_argument for a fraction outside 0..1.
  void progress(double fraction, std::string_view note = {});

  // A secret for a process outside this one (an application called by an HTTP kind) to act for
  // this attempt only: POST /api/v1/jobs/{id}/progress with header X-Spool-Attempt-Token. It
  // works until the attempt ends, for this job only. Empty where no runtime issues tokens.
  std::string attempt_token() const { return token_ && *token_ ? (*token_)(job_) : std::string(); }

  // The jobs this one depends on (new_job::depends_on, needs), by id, each with its result if it
  // completed with one: a dependant's input. One read of the database; empty for a job without
  // parents, or where no runtime reads them.
  boost::asio::awaitable<std::vector<parent_result>> parent_results() const;

 private:
  const claimed_job& job_;
  const boost::json::object& payload_;
  const log_fn& log_;
  std::vector<new_job>& follow_ups_;
  const progress_fn* progress_;
  const token_fn* token_;
  const parents_fn* parents_;
};

// A handler is a coroutine. It runs on the job's own strand and may be cancelled (timeout,
// operator cancel, shutdown) through its coroutine's cancellation slot. Throwing is a retryable
// failure; throwing permanent_error is a permanent one.
using handler = std::function<boost::asio::awaitable<outcome>(job_context&)>;

}  // namespace spool::jobs
