#pragma once
// One e2e test's world: a fresh directory holding its database, config file and the captured
// output of every command, and the helpers that drive build/spool against it.
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tests/e2e/process.hpp"

namespace spool::e2e {

namespace json = boost::json;
using job_id = std::int64_t;

// The binary under test: the build's (see CMakeLists.txt), or SPOOL_E2E_BIN to test another one,
// such as an installed binary or a build of another revision.
const std::string& spool_bin();

class sandbox {
 public:
  sandbox();
  // Removes the directory, unless the current test case failed: then it is kept for inspection.
  ~sandbox();
  sandbox(const sandbox&) = delete;
  sandbox& operator=(const sandbox&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path db_path() const { return db_dir_ / "spool.db"; }
  // Keeps the database in `dir` (such as a small filesystem the test mounted) instead of dir().
  void place_db_in(const std::filesystem::path& dir) { db_dir_ = dir; }
  // The sandbox's SQLite file, unless use_db() named another database.
  std::string db_url() const { return db_url_.empty() ? "sqlite:" + db_path().string() : db_url_; }
  // Every later command uses this database (e.g. a PostgreSQL scratch database).
  void use_db(std::string url) { db_url_ = std::move(url); }

  // Writes config.json; every later command gets it with --config.
  void write_config(const std::string& json_text);

  // `spool ARGS...` exactly as given (no --db, no --config), run to completion.
  result raw(const std::vector<std::string>& args, steady::duration timeout = 30s);
  // `spool --db URL [--config FILE] ARGS...`, run to completion.
  result spool(const std::vector<std::string>& args, steady::duration timeout = 30s);
  // Like spool(), but the test fails (and stops) unless the command exits 0. Returns stdout.
  std::string spool_ok(const std::vector<std::string>& args);

  // `spool enqueue KIND ARGS...`: the new job's id.
  job_id enqueue(const std::string& kind, const std::vector<std::string>& args = {});
  // `spool jobs show ID --json`.
  json::object show(job_id id);
  // Polls `spool jobs show ID --json` until the job is in `state`; fails the test after `timeout`.
  json::object wait_for_state(job_id id, const std::string& state, steady::duration timeout,
                              boost::source_location where = BOOST_CURRENT_LOCATION);
  // `spool jobs list --json --limit 100000 ARGS...`.
  std::vector<json::object> list(const std::vector<std::string>& args = {});
  // `spool stats --json`: jobs per state over all queues.
  std::map<std::string, std::int64_t> states();
  // `spool stats --json` as one line, for failure messages.
  std::string stats_text();

  // `spool --db URL [--config FILE] run --diagnostic-kinds --log-format json ARGS...`, in the
  // background; its stdout and stderr go to NAME.out and NAME.err in the sandbox. Every command
  // run from a sandbox gets SPOOL_HTTP=127.0.0.1:0: a runtime's admin endpoint takes a free port.
  // diagnostic_kinds = false: without --diagnostic-kinds.
  std::shared_ptr<process> start_runtime(const std::string& name,
                                         const std::vector<std::string>& args = {},
                                         bool diagnostic_kinds = true);
  // NAME=VALUE entries every later command gets in its environment (such as SPOOL_HTTP=bad).
  std::vector<std::string> extra_env;
  // For failure messages: each runtime started here that still exists, whether it still runs,
  // and the errors it logged.
  std::string runtimes_text();
  // SIGTERM, then requires exit status 0 within `timeout`.
  void stop_runtime(process& p, steady::duration timeout = 15s);
  // SIGTERM to all at once; checks (without stopping the test) that each exits 0 within
  // `timeout`, and SIGKILLs those that do not.
  void stop_runtimes(const std::vector<process*>& ps, steady::duration timeout = 15s);

 private:
  std::vector<std::string> with_db(const std::vector<std::string>& args) const;
  spawn_options capture(const std::string& name);

  std::filesystem::path dir_;
  std::filesystem::path db_dir_;
  std::filesystem::path config_;
  std::string db_url_;
  int commands_ = 0;
  std::vector<std::pair<std::string, std::weak_ptr<process>>> runtimes_;
};

// The JSON log lines of a runtime's stderr. Skipped: a last line still being written, and lines
// that are not JSON objects, such as the "spool: ..." line the command prints when it fails.
std::vector<json::object> events(const std::string& log);
// Only the lines of one event, such as "job_started".
std::vector<json::object> events(const std::string& log, std::string_view event);
// How many lines of one event a log holds, without parsing it.
std::size_t count_events(const std::string& log, std::string_view event);

// "3 error lines, the last: claim_failed: ..." for failure messages; "no error lines" if none.
std::string error_summary(const std::string& log);

// Microseconds since the epoch of an RFC 3339 UTC time as spool prints it
// ("2026-01-02T03:04:05.123456Z"). Fails the test on any other shape.
std::int64_t time_us(std::string_view rfc3339);
std::int64_t time_us(const json::value& v);
// The RFC 3339 form of a system_clock time, as `spool enqueue --run-at` takes it.
std::string rfc3339(std::chrono::system_clock::time_point t);

// Accessors that fail the test with the field's name instead of throwing an opaque error.
std::int64_t int_field(const json::object& o, std::string_view key);
std::string string_field(const json::object& o, std::string_view key);

// The random seed of a randomized test: SPOOL_E2E_SEED to replay one, otherwise a fresh one.
std::uint64_t test_seed();

// Lines of text, without their newlines; a trailing empty line is not counted.
std::vector<std::string> lines(const std::string& text);

}  // namespace spool::e2e
