#pragma once
// The store interface: one synchronous connection to the job database. Implementations are
// blocking and single-threaded by design; db_executor runs them on their own threads.
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <spool/errors.hpp>

#include "jobs/job.hpp"
#include "jobs/lifecycle.hpp"
#include "jobs/limits.hpp"
#include "persistence/schema.hpp"

namespace spool::store {

using jobs::job_id;
using jobs::lease_id;
using jobs::time_point;

using jobs::cancel_result;
using jobs::retry_result;

using insert_result = jobs::enqueue_result;

struct list_filter {
  std::optional<jobs::state> state;
  std::optional<std::string> kind;
  std::optional<std::string> queue;
  std::optional<std::string> unique_key;  // every job that carried this key, holding it or not
  // Time ranges, each [after, before): when the job was created; when it finished or dead-lettered
  // (a job not finished matches no finished range).
  std::optional<time_point> created_after = {}, created_before = {};
  std::optional<time_point> finished_after = {}, finished_before = {};
  // Text in any recorded error (or the final note), case-insensitive for ASCII.
  std::optional<std::string> error_contains = {};
  std::optional<job_id> before;  // keyset cursor: ids below this one (newest first)
  int limit = 50;
};

// Counts by state (dead-lettered jobs as "dead"), overall and per queue.
struct stats {
  std::map<std::string, std::int64_t> states;
  std::map<std::string, std::map<std::string, std::int64_t>> queues;
  std::map<std::string, time_point> oldest_available;  // per queue: earliest due run_at
};

// Which dead-lettered jobs an operator means: one id, or all matching kind and queue.
struct dead_filter {
  std::optional<job_id> id;
  std::optional<std::string> kind;
  std::optional<std::string> queue;
};

// A running job whose lease ran out: its worker is gone or too slow.
struct expired_job {
  job_id id = 0;
  lease_id lease = 0;
  std::string kind;
  std::string queue;
  int attempt = 0;
  int max_attempts = 0;
};

// One runtime process sharing the database, as recorded in the node registry.
struct node_info {
  std::string id;  // the worker id: "host:pid:random"
  std::string host;
  std::int64_t pid = 0;
  time_point started_at;
  time_point heartbeat_at;
  std::vector<std::string> queues;
  bool leader = false;  // holds the maintenance leadership (read only)
  std::vector<std::string> kinds = {};  // the job kinds it runs, sorted
  std::int64_t running = 0;  // jobs running under its leases (read only)
};

// The most jobs one claim asks for (runtime's max_round_jobs; claims under limits count on it).
inline constexpr int max_claim_jobs = 1000;

// What a producer asks for in one round (see store::complete_and_claim).
struct claim_request {
  std::string queue;
  int limit = 0;  // claim up to this many due jobs; 0 claims nothing
  std::string worker;
  time_point now;
  time_point lease_until;
  bool want_next_due = false;  // also find the earliest run_at after `now` in the queue
  // The concurrency limits a claim from `queue` must keep (those that apply to it; see
  // jobs/limits.hpp). Empty: the plain claim. Points into storage that outlives the call.
  std::span<const jobs::concurrency_limit> limits = {};
};

// An enqueue that also claims, in the same transaction, for producers idling on its queues
// (db_executor::stand): the job an idle queue gets starts without a round of its own.
struct insert_and_claim_result {
  std::vector<insert_result> inserted;
  std::vector<std::vector<jobs::claimed_job>> claimed;  // one per claim request, in order
};

struct round_result {
  std::vector<job_id> stale;  // completions not applied: their lease was lost
  // The applied completions' follow-ups as inserted, in the order accepted_follow_ups gives.
  std::vector<insert_result> follow_ups;
  std::vector<jobs::claimed_job> claimed;
  std::optional<time_point> next_due;  // only when asked for; empty when nothing is scheduled
  // The queues of pending jobs this round made due (their last parent completed here).
  std::vector<std::string> released = {};
  // The claim came back short because a full concurrency limit held due jobs back: the queue is
  // not empty, but claiming again helps only once a slot frees.
  bool held_back = false;
};

// One pass of the pruner over one final state: jobs that reached `state` (completed, cancelled
// or dead) before `before`, of `queue` if given, else of every queue but `except` (those with a
// retention of their own). Up to `limit` of them go, oldest first, in one transaction.
struct prune_request {
  jobs::state state = jobs::state::completed;
  time_point before;
  std::optional<std::string> queue;
  std::vector<std::string> except;
  int limit = 1000;
};

// A periodic schedule as the database remembers it: the last tick enqueued, and that tick's job.
struct periodic_row {
  std::string name;
  time_point last_tick;
  std::optional<job_id> last_job_id;
};

// A pending job's run_at: the largest time there is, never due (see core migration 12).
inline constexpr long long pending_run_at = 9223372036854775807LL;

using jobs::parent_result;

// A concurrency limit's use now: per group (one, or one per partition value in use), the jobs
// running, and the due jobs it holds back (those it counts that wait in `ready`, due now).
struct limit_use {
  jobs::concurrency_limit limit;
  std::map<std::string, std::int64_t> running;  // by partition value ("" unpartitioned)
  std::int64_t waiting = 0;  // counted up to waiting_cap
  bool waiting_capped = false;
};
inline constexpr std::int64_t limit_waiting_cap = 10000;

// A queue paused in the database: no node claims from it until it is resumed.
struct paused_queue {
  std::string queue;
  time_point since;
};

// The follow-ups of the completions in `done` that were applied (not in `stale`), in order: what
// a round inserts with them, and what its results answer.
std::vector<jobs::new_job> accepted_follow_ups(std::span<const jobs::completion> done,
                                               std::span<const job_id> stale);

// Whether any job of the batch waits for others (depends_on, needs).
bool any_dependencies(std::span<const jobs::new_job> batch);

// The applied completions of `done` (not in `stale`) that end their job: completed, dead or
// cancelled, for their dependants to settle.
std::vector<std::pair<job_id, jobs::state>> ended_jobs(std::span<const jobs::completion> done,
                                                       std::span<const job_id> stale);

// When the last of `done` happened: the creation time of the follow-ups a round inserts.
time_point latest_at(std::span<const jobs::completion> done);

class store {
 public:
  virtual ~store() = default;

  // Applies the migrations not yet applied, the core's then those of open_options::schemas;
  // returns how many ran.
  virtual int migrate() = 0;
  // Throws unless the database answers and its schema is in place.
  virtual void ping() = 0;

  // Inserts in one transaction that commits durably. A unique key held by another job (see
  // jobs/unique.hpp) yields that job's id with duplicate = true, and inserts nothing.
  std::vector<insert_result> insert(std::span<const jobs::new_job> batch, time_point now) {
    if (batch.empty()) return {};
    return insert_and_claim(batch, now, {}).inserted;
  }
  // insert(), then each claim as claim() makes it, in the same transaction.
  virtual insert_and_claim_result insert_and_claim(std::span<const jobs::new_job> batch,
                                                   time_point now,
                                                   std::span<const claim_request> claims) = 0;

  // Moves up to `limit` due jobs of `queue` (by priority, run_at, id) to running under one new
  // lease held by `worker`, each with attempt + 1.
  std::vector<jobs::claimed_job> claim(const std::string& queue, int limit,
                                       const std::string& worker, time_point now,
                                       time_point lease_until) {
    if (limit <= 0) return {};
    return complete_and_claim({}, {.queue = queue, .limit = limit, .worker = worker, .now = now,
                                   .lease_until = lease_until})
        .claimed;
  }

  // Applies the transitions in one transaction, each only while its job still runs under the
  // completion's lease. Returns the ids that were not applied (lease lost). A batch holds at most
  // one completion per job: the answer names jobs (runtime::take_batch keeps to that).
  std::vector<job_id> complete(std::span<const jobs::completion> batch) {
    if (batch.empty()) return {};
    return complete_and_claim(batch, {}).stale;
  }

  // A producer's round: applies `done` as complete() does, inserts the applied completions'
  // follow-ups, then claims as claim() does (taking the slots those completions free), in one
  // transaction: one commit instead of two or three.
  virtual round_result complete_and_claim(std::span<const jobs::completion> done,
                                          const claim_request& next) = 0;

  virtual void renew(std::span<const lease_id> leases, time_point until) = 0;
  // Stores each attempt's latest progress report in one statement, each only while its job
  // still runs under the update's lease (a report of a lost attempt is dropped).
  virtual void record_progress(std::span<const jobs::progress_update> updates) = 0;
  virtual std::vector<expired_job> expired(time_point now, int limit) = 0;
  // The earliest run_at after `now` in the queue's ready set (one index seek per priority level).
  virtual std::optional<time_point> next_due(const std::string& queue, time_point now) = 0;
  // Running jobs an operator asked to cancel from another process.
  virtual std::vector<job_id> cancel_requests() = 0;

  // Operator views and actions.
  virtual std::optional<jobs::job> get(job_id id, time_point now) = 0;
  virtual std::vector<jobs::job> list(const list_filter& filter, time_point now) = 0;
  virtual stats count(time_point now) = 0;
  virtual cancel_result cancel(job_id id, time_point now) = 0;
  // A waiting job (scheduled or retrying) becomes due now.
  virtual retry_result retry_now(job_id id, time_point now) = 0;
  // Dead-lettered jobs back to available from attempt 1; returns how many. A job whose unique
  // key another job holds now stays dead (the key would have two holders).
  virtual std::int64_t requeue_dead(const dead_filter& which, time_point now) = 0;
  virtual std::int64_t purge_dead(const dead_filter& which) = 0;
  // Deletes finished jobs past their retention, with everything that belongs to them (errors,
  // unique keys, the rows schemas declare as theirs); keeps the counts. Returns how many went.
  virtual std::int64_t prune(const prune_request& which) = 0;

  // Maintenance leadership, one holder at a time: takes it when free or expired, extends it when
  // `node` holds it already. Returns whether `node` holds it until now + ttl.
  virtual bool lead(const std::string& node, time_point now, jobs::duration ttl) = 0;
  // Gives the leadership up at once if `node` holds it (clean shutdown: no waiting for expiry).
  virtual void resign(const std::string& node) = 0;

  // The jobs `child` depends on, by id, with the results of those that completed with one.
  virtual std::vector<parent_result> parent_results(job_id child) = 0;
  // The leader's check of pending jobs: releases or cancels up to `limit` whose parents have all
  // ended but that were not settled when they did (a dependency added, on PostgreSQL, while its
  // parent's completion was being committed). Returns how many it settled.
  virtual std::int64_t settle_pending(time_point now, int limit) = 0;

  // Periodic jobs. Enqueues `job` for the tick `tick` of schedule `name`, and records that tick
  // as the schedule's last, in one durable transaction, unless a tick at or after it is recorded
  // already (another leader, or an earlier run, enqueued it): then nothing (nullopt). The job
  // carries the tick's unique key (schedule::tick_key): a duplicate answers that job's id.
  virtual std::optional<insert_result> enqueue_periodic(const std::string& name, time_point tick,
                                                        const jobs::new_job& job, time_point now) = 0;
  virtual std::vector<periodic_row> periodic_rows() = 0;
  // Deletes the rows of schedules not in `keep` (removed from the configuration); returns how many.
  virtual std::int64_t forget_periodic(std::span<const std::string> keep) = 0;

  // Queue pause, kept in the database so that every node sharing it honours it and a restart
  // keeps it. Records durably whether `queue` is paused, whether or not any node serves it.
  virtual void set_paused(const std::string& queue, bool paused, time_point now) = 0;
  // The paused queues by name, in one statement: each node reads them every poll interval.
  virtual std::vector<paused_queue> paused_queues() = 0;

  // What each limit counts now (operator views, /metrics): reads `running` (as small as the
  // cluster's concurrency) and at most limit_waiting_cap due jobs per limit.
  virtual std::vector<limit_use> limit_usage(std::span<const jobs::concurrency_limit> limits,
                                             time_point now) = 0;

  // Node registry: records or refreshes a node; removes one; lists all, oldest first.
  virtual void heartbeat(const node_info& node, time_point now) = 0;
  virtual void forget_node(const std::string& id) = 0;
  // Removes nodes silent since `before`; returns how many.
  virtual std::int64_t forget_nodes_before(time_point before) = 0;
  virtual std::vector<node_info> nodes(time_point now) = 0;

  // Wakes the nodes listening for `payload` (a queue name) at once; a no-op where a database has
  // no notifications (SQLite: each node polls, and wakes its own producers in-process).
  virtual void notify(const std::string& payload) = 0;
};

struct open_options {
  // Enqueues commit without waiting for the disk (SQLite synchronous=NORMAL, PostgreSQL
  // synchronous_commit=off): several times faster one at a time, but a power loss or OS crash
  // (not a process crash) can lose the most recently acknowledged jobs.
  bool relaxed_enqueue = false;
  // The tables of the components above the store (job kinds that keep their own data, an
  // embedding application): migrate() applies them after the core's, in this order.
  std::vector<schema> schemas = {};
  // false: the store never migrates; used on a database with a migration not yet applied it
  // throws store_error saying "is not migrated" (the CLI's read-only commands).
  bool migrate_on_use = true;
};

// Opens a store from a URL: "sqlite:PATH" (the embedded default) or
// "postgresql://user:pass@host:port/dbname" (see database_url.hpp).
std::unique_ptr<store> open(const std::string& url, const open_options& options = {});

}  // namespace spool::store
