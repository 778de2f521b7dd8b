#pragma once
// Child processes for end-to-end tests: spawn a program with arguments and environment, capture
// its stdout and stderr in files, wait for it with a deadline, send it signals. Plus wait_until,
// the polling helper every e2e test synchronises with instead of sleeping.
#include <sys/types.h>

// Boost's source_location: clang 14 (the sanitizer and fuzzing builds) lacks the built-in that
// libstdc++ 12's std::source_location needs.
#include <boost/assert/source_location.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace spool::e2e {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

struct spawn_options {
  std::filesystem::path cwd;          // the child's working directory
  std::filesystem::path stdout_path;  // created or truncated
  std::filesystem::path stderr_path;  // created or truncated
  // NAME=VALUE entries added to the test's environment, from which SPOOL_* variables are removed
  // so that a developer's shell settings cannot leak into a test.
  std::vector<std::string> env;
};

// How a child ended: its exit code, or 128 + the signal that killed it, as a shell reports it.
using exit_status = int;

struct result {
  exit_status status = -1;
  std::string out;
  std::string err;
};

// One child process. It gets SIGKILL when the test process dies (so a timed-out test leaves no
// runtime behind) and when this object is destroyed while the child still runs.
class process {
 public:
  // Spawns from the calling thread; keep it the main thread, since the child's death signal is
  // tied to the thread that created it.
  process(const std::string& program, const std::vector<std::string>& args, spawn_options opts);
  ~process();
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  // The exit status once the child ended; nullopt while it runs. Never blocks.
  std::optional<exit_status> poll();
  // Waits at most `timeout` for the child to end.
  std::optional<exit_status> wait_for(steady::duration timeout);
  bool running() { return !poll(); }

  std::string out() const;
  std::string err() const;
  const std::filesystem::path& err_path() const { return opts_.stderr_path; }

 private:
  pid_t pid_ = -1;
  std::optional<exit_status> status_;
  spawn_options opts_;
};

// Runs a program to completion. One still running after `timeout` is killed and fails the test.
result run(const std::string& program, const std::vector<std::string>& args,
           const spawn_options& opts, steady::duration timeout);

// Polls `pred` every few milliseconds until it holds or `timeout` passes; returns pred().
bool poll_until(const std::function<bool()>& pred, steady::duration timeout);

// Polls `pred` every few milliseconds until it holds. After `timeout` the test fails with the
// message (the callable form is evaluated then, so it can describe the state that was reached).
void wait_until(const std::function<bool()>& pred, steady::duration timeout,
                const std::function<std::string()>& message,
                boost::source_location where = BOOST_CURRENT_LOCATION);
void wait_until(const std::function<bool()>& pred, steady::duration timeout,
                const std::string& message,
                boost::source_location where = BOOST_CURRENT_LOCATION);

std::string read_file(const std::filesystem::path& path);

// The resident set size of a process in KiB (VmRSS), or nullopt once it is gone.
std::optional<std::int64_t> resident_kib(pid_t pid);

// "exit code 3", "killed by signal 9 (Killed)".
std::string describe(exit_status status);

}  // namespace spool::e2e
