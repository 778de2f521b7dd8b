#pragma once
// How a handler says an attempt ended.
#include <stdexcept>
#include <string>

#include <spool/job.hpp>

namespace spool::jobs {

// How one attempt of a job ended. Handlers return one; the runtime makes the others.
struct outcome {
  enum class type {
    succeeded,
    failed,              // retryable: the retry policy decides when, or dead when exhausted
    failed_permanently,  // straight to the dead-letter queue
    snoozed,             // run again after snooze_for; consumes no attempt
    cancelled,           // final; by the handler or an operator
    interrupted,         // shutdown took the job away; consumes no attempt, records no error
  };
  type kind = type::succeeded;
  std::string message;
  duration snooze_for{};
  // succeeded: the job's result, JSON text (empty: none). Stored with the job, committed with the
  // attempt's completion; over settings::result_max_bytes or not JSON, the attempt fails instead.
  std::string result = {};

  static outcome success() { return {}; }
  static outcome success(std::string result_json) { return {type::succeeded, {}, {}, std::move(result_json)}; }
  static outcome error(std::string msg) { return {type::failed, std::move(msg), {}}; }
  static outcome permanent(std::string msg) { return {type::failed_permanently, std::move(msg), {}}; }
  static outcome snooze(duration d) { return {type::snoozed, {}, d}; }
  static outcome cancel(std::string reason) { return {type::cancelled, std::move(reason), {}}; }
  static outcome interrupt() { return {type::interrupted, {}, {}}; }
};

// Thrown by a handler to fail permanently without building an outcome by hand.
struct permanent_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace spool::jobs
