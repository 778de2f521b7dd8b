#pragma once
// Testing helpers for applications (as River's and Oban's): a runtime on a temporary SQLite
// database whose jobs a test runs inline with drain() and inspects with jobs().
//
//   spool::testing::test_runtime t(my_kinds());
//   my_app.sign_up(t.runtime_settings(), "ada");          // or t.enqueue({...})
//   BOOST_TEST(t.jobs("welcome_email").size() == 1);       // enqueued
//   t.drain();                                             // runs it (and what it enqueues)
//   BOOST_TEST(t.jobs("welcome_email")[0].state == "completed");
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <spool/job.hpp>
#include <spool/registry.hpp>
#include <spool/settings.hpp>

namespace spool::testing {

// A job as a test sees it.
struct job_record {
  jobs::job_id id = 0;
  std::string kind;
  std::string queue;
  std::string payload;
  std::string state;  // scheduled, available, running, retrying, completed, cancelled, dead
  int attempt = 0;
  std::string last_error;
};

class test_runtime {
 public:
  // Creates the database (migrated) in a fresh temporary directory. `settings.db` is replaced.
  explicit test_runtime(jobs::registry kinds, config::settings settings = {});
  ~test_runtime();  // removes the database
  test_runtime(const test_runtime&) = delete;
  test_runtime& operator=(const test_runtime&) = delete;

  // The settings of this runtime (their db names the temporary database): for code under test
  // that makes its own spool::runtime::runtime.
  const config::settings& runtime_settings() const { return settings_; }

  // Enqueues durably, as runtime::enqueue does (std::invalid_argument for an invalid job).
  std::vector<jobs::enqueue_result> enqueue(std::vector<jobs::new_job> jobs);

  // Runs every job that is due now, and those the jobs enqueue due now, until none is due and
  // none is running; jobs scheduled later or waiting to retry stay. Runs on the calling thread.
  // Returns how many attempts ended. Throws std::runtime_error if `limit` passes first.
  std::uint64_t drain(std::chrono::milliseconds limit = std::chrono::seconds(30));

  // Every job of `kind` (every job when empty), oldest first.
  std::vector<job_record> jobs(std::string_view kind = {}) const;

 private:
  std::filesystem::path dir_;
  config::settings settings_;
  jobs::registry kinds_;
};

}  // namespace spool::testing
