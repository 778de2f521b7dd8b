#pragma once
// Secrets that let a process outside this one act for one running attempt, and for nothing else:
// an HTTP kind sends its attempt's token with the request, and the application reports the job's
// progress through the admin API with it (POST /api/v1/jobs/{id}/progress). A token is random,
// held here while its attempt runs, and revoked when the attempt ends; it names its job and
// attempt, so it cannot touch another job, nor a later attempt of the same one.
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "runtime/progress_book.hpp"

namespace spool::runtime {

class attempt_tokens {
 public:
  explicit attempt_tokens(progress_book& progress) : progress_(progress) {}

  // A new token for `job`'s running attempt (any thread).
  std::string issue(const jobs::claimed_job& job);
  // The attempt ended: its token no longer works, and nothing it reported remains to store.
  void revoke(const std::string& token);
  // Reports progress for job `id` if `token` is the live token of an attempt of that job;
  // otherwise changes nothing and returns false. Checked and reported under one lock, so that a
  // report cannot outlive its attempt's revocation.
  bool report(std::string_view token, jobs::job_id id, double fraction, std::string note);

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, jobs::claimed_job> live_;  // token -> the attempt
  progress_book& progress_;
};

}  // namespace spool::runtime
