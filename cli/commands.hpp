#pragma once
// The `spool` subcommands. Each returns the process exit status: 0 ok, 1 failure, 2 usage error.
#include <optional>
#include <string>

#include "config/config.hpp"
#include "jobs/job.hpp"
#include "persistence/store.hpp"

namespace spool::cli {

// Thrown for bad input the user typed: exit status 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct enqueue_args {
  std::string kind;
  std::string payload = "{}";
  std::string queue = "default";
  int priority = 0;
  std::optional<std::string> run_at;
  std::optional<double> delay_s;
  std::optional<int> max_attempts;  // the kind's policy when not given
  std::optional<std::string> unique_key;
  bool unique_args = false;                  // derive the key from kind, queue and payload
  std::optional<std::string> unique_states;  // "scheduled,available,running,retrying" or fewer
  std::optional<double> unique_for_s;        // completed jobs hold the key this long
  bool error_on_conflict = false;            // a held key is an error (exit 3), not the holder's id
  bool force = false;                        // enqueue even when no live node runs the kind
  std::vector<jobs::job_id> depends_on;      // pending until these jobs completed
  bool run_on_parent_failure = false;        // run anyway when one ends dead or cancelled
};

int run(const config::settings& s);
int enqueue(const config::settings& s, const enqueue_args& a);
int jobs_list(const config::settings& s, const store::list_filter& f, bool json);
int jobs_show(const config::settings& s, jobs::job_id id, bool json);
int jobs_cancel(const config::settings& s, jobs::job_id id);
int jobs_retry(const config::settings& s, jobs::job_id id);
int dlq_list(const config::settings& s, int limit, bool json);
int dlq_requeue(const config::settings& s, std::optional<jobs::job_id> id);
int dlq_purge(const config::settings& s, std::optional<jobs::job_id> id);
int stats(const config::settings& s, bool json);
// Every queue the database knows of, with its counts, the live nodes serving it and its pause.
int queues_list(const config::settings& s, bool json);
// Stores the queue's pause (or resume), which every node applies within its poll interval.
int queues_pause(const config::settings& s, const std::string& queue, bool paused);
int nodes(const config::settings& s, bool json);
int kinds(const config::settings& s, bool json);
// The configured periodic jobs with their next run and the last tick the database recorded.
int periodic_list(const config::settings& s, bool json);
int migrate(const config::settings& s);
// Validates the settings as `spool run` would read them (without its flags), touching no
// database; prints one line. A bad value is a config_error (exit 2).
int config_check(const config::settings& s);

}  // namespace spool::cli
