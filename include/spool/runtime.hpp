#pragma once
// The Spool runtime: embed it in any Asio program, or run it through `spool run`.
//
//   boost::asio::io_context ioc;
//   spool::jobs::registry kinds;
//   kinds.add("email", send_email);                      // a coroutine handler
//   spool::runtime::runtime rt(ioc.get_executor(), settings, std::move(kinds));
//   co_spawn(ioc, rt.run(), ...);                         // until rt.stop()
//   auto ids = co_await rt.enqueue({{.kind = "email", .payload = R"({"to":"a@b"})"}});
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <spool/errors.hpp>
#include <spool/job.hpp>
#include <spool/registry.hpp>
#include <spool/settings.hpp>

namespace spool::store {
struct schema;
}

namespace spool::runtime {

struct internal_access;

// How many io_context threads to run `settings` on: `workers` if set. Otherwise one per core,
// less one on SQLite, whose single database thread is busy with SQLite's own work under load:
// one thread per core in all avoids two threads taking turns on a core (docs/benchmarks.md).
int io_threads(const config::settings& settings);

class runtime {
 public:
  // Opens the store (and applies migrations); throws store::store_error or config::config_error.
  runtime(boost::asio::any_io_executor executor, config::settings settings, jobs::registry kinds);
  // Spool's own kinds with tables of their own pass those tables' migrations (applied after the
  // store's own) through this one.
  runtime(boost::asio::any_io_executor executor, config::settings settings, jobs::registry kinds,
          std::vector<store::schema> schemas);
  ~runtime();

  // Durable enqueue: returns once the jobs are committed. Throws std::invalid_argument for a job
  // that fails validation (nothing of the batch is stored) and store::store_error for a database
  // failure.
  boost::asio::awaitable<std::vector<jobs::enqueue_result>> enqueue(std::vector<jobs::new_job> jobs);

  // Runs until stop() and a graceful shutdown: stop claiming, let in-flight jobs finish within the
  // grace period, cancel the rest (they return to the queue unharmed), flush completions.
  boost::asio::awaitable<void> run();
  void stop();      // any thread
  void stop_now();  // any thread: skip the grace period
  // Cancels a job: a waiting one at once, a running one through its cancellation slot.
  boost::asio::awaitable<jobs::cancel_result> cancel(jobs::job_id id);

  // A waiting (scheduled or retrying) job runs now.
  boost::asio::awaitable<jobs::retry_result> retry_now(jobs::job_id id);

  // A progress report from outside the process (an application called by an HTTP kind) for the
  // attempt of job `id` that `attempt_token` belongs to (job_context::attempt_token), stored as
  // job_context::progress stores it. False, changing nothing, if the token is not that of a
  // running attempt of job `id` in this process. Throws std::invalid_argument for a fraction
  // outside 0..1. Any thread.
  bool report_progress(std::string_view attempt_token, jobs::job_id id, double fraction,
                       std::string_view note);

  struct queue_info {
    std::string name;
    int concurrency = 0;
    bool paused = false;
    int running = 0;
  };
  std::vector<queue_info> queue_infos() const;
  // Pauses or resumes `queue` on every node sharing the database: stored durably (a restart
  // keeps it), applied here at once and by the other nodes within their poll interval. Running
  // jobs finish. Any queue may be paused, served by a node or not (yet). Throws store_error.
  boost::asio::awaitable<void> pause(std::string queue, bool paused);
  bool draining() const;  // shutdown has begun
  void wake();            // every queue looks for due jobs now (e.g. after a transactional enqueue)
  const config::settings& settings() const;

  const std::string& worker_id() const;
  // The kinds this runtime runs, with their registered policies and payload checks.
  const jobs::registry& kinds() const;
  // Attempts whose outcome this runtime has committed to the store so far.
  std::uint64_t committed() const;
  int in_flight() const;
  std::vector<std::string> queues() const;

 private:
  friend struct internal_access;  // the store and the metrics, for Spool's own layers
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace spool::runtime
