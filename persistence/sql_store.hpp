#pragma once
// The skeleton both stores share (private to persistence/): every operation whose SQL is the
// same on SQLite and PostgreSQL, written once over a soci::session: operator views and actions,
// maintenance reads, leadership, the node registry, and the migrations of every schema. A
// concrete store adds its connection handling and its hot path (enqueue, a producer's round,
// lease renewal, next_due, notify), and lends the skeleton its transactions through two hooks.
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <type_traits>
#include <vector>

#include "persistence/dialect.hpp"
#include "persistence/store.hpp"

namespace spool::store {

class sql_store : public store {
 public:
  void ping() override;
  std::vector<expired_job> expired(time_point now, int limit) override;
  std::vector<job_id> cancel_requests() override;
  void record_progress(std::span<const jobs::progress_update> updates) override;

  std::optional<jobs::job> get(job_id id, time_point now) override;
  std::vector<jobs::job> list(const list_filter& filter, time_point now) override;
  stats count(time_point now) override;
  cancel_result cancel(job_id id, time_point now) override;
  retry_result retry_now(job_id id, time_point now) override;
  std::int64_t requeue_dead(const dead_filter& which, time_point now) override;
  std::int64_t purge_dead(const dead_filter& which) override;
  std::int64_t prune(const prune_request& which) override;
  std::vector<parent_result> parent_results(job_id child) override;
  std::int64_t settle_pending(time_point now, int limit) override;

  bool lead(const std::string& node, time_point now, jobs::duration ttl) override;
  void resign(const std::string& node) override;
  void heartbeat(const node_info& node, time_point now) override;
  void forget_node(const std::string& id) override;
  std::int64_t forget_nodes_before(time_point before) override;
  std::vector<node_info> nodes(time_point now) override;

  std::optional<insert_result> enqueue_periodic(const std::string& name, time_point tick,
                                                const jobs::new_job& job, time_point now) override;
  std::vector<periodic_row> periodic_rows() override;
  std::int64_t forget_periodic(std::span<const std::string> keep) override;

  // sql_flow.cpp: queue pause and snooze tallies.
  void set_paused(const std::string& queue, bool paused, time_point now) override;
  std::vector<paused_queue> paused_queues() override;
  // sql_limits.cpp
  std::vector<limit_use> limit_usage(std::span<const jobs::concurrency_limit> limits,
                                     time_point now) override;

 protected:
  using session_work = std::function<void(soci::session&)>;

  // `schemas`: migrated after the core's, in this order. Throws store_error for a name that is
  // empty, "core" or used twice, and for versions out of ascending order.
  sql_store(const dialect& d, std::vector<schema> schemas);

  // The hooks. Each runs `work` on the store's connection (migrated, ready) and turns any
  // failure into a store_error that names `op` and the database. run() runs it as it is (each
  // statement its own transaction); run_write() in a write transaction that commits after it,
  // waiting for the disk if `durable`.
  virtual void run(const char* op, const session_work& work) = 0;
  virtual void run_write(const char* op, bool durable, const session_work& work) = 0;
  // The concrete store's enqueue, inside a transaction run_write() opened.
  virtual std::vector<insert_result> insert_in_transaction(std::span<const jobs::new_job> batch,
                                                           time_point now) = 0;

  // The hooks for work f(soci::session&) that returns a value.
  template <class F>
  auto call(const char* op, F&& f) {
    return returning(f, [&](const session_work& w) { run(op, w); });
  }
  template <class F>
  auto write(const char* op, bool durable, F&& f) {
    return returning(f, [&](const session_work& w) { run_write(op, durable, w); });
  }

  // Applies the migrations not yet recorded, schema by schema, each in its own transaction; the
  // caller holds whatever lock keeps two processes from doing it at once. Returns how many ran.
  int apply_migrations(soci::session& s);
  // Throws store_error ("... is not migrated") unless every migration is recorded; changes nothing.
  void require_migrated(soci::session& s, const std::string& where);

  bool migrate_on_use_ = true;

  // Deletes what belongs to the jobs `ids` (" IN (...)" as `in` binds it) outside the state
  // tables: error history, unique keys, the rows the schemas declare as theirs, the job itself.
  void delete_job_rows(soci::session& s, const std::string& ids, const std::string& in);

  // Dependencies (sql_dependencies.cpp), inside the caller's write transaction.
  // The batch as the concrete insert must write it: jobs that wait for parents start pending.
  static std::vector<jobs::new_job> with_pending(std::span<const jobs::new_job> batch);
  // After the insert of `batch` (as `inserted`): records each new job's parents, and makes it due
  // (all completed), cancels it (one failed, on_parent_failure cancel) or keeps it pending with
  // the number it waits for. Throws dependency_error for an unknown parent. Returns the queues
  // of jobs it made due.
  std::vector<std::string> attach_dependencies(soci::session& s, std::span<const jobs::new_job> batch,
                                               std::span<const insert_result> inserted, time_point now);
  // Jobs that ended (`ended`: id and final state, completed, dead or cancelled): their pending
  // dependants count them off, and become due when none is left, or are cancelled (and so on
  // down). Returns the queues of jobs it made due.
  std::vector<std::string> settle_dependants(soci::session& s,
                                             std::vector<std::pair<job_id, jobs::state>> ended,
                                             time_point now);

  const dialect& dialect_;

  // A claim under concurrency limits (sql_limits.cpp), in the caller's write transaction, in two
  // steps. limits_cannot_bind() comes first: on PostgreSQL it takes one lock per limit, so that
  // claimers on every node count what runs one after the other; then it says whether the plain
  // claim is safe (all that runs and all the claim may take fit every limit). If not,
  // take_limited() reads the running jobs each limit counts and takes due jobs in claim order
  // that fit (jobs::limit_ledger), passing over those that do not; nullopt: no limit can bind
  // after all (limit_ledger::could_bind), and the caller claims as usual.
  bool limits_cannot_bind(soci::session& s, const claim_request& next);
  int max_connections_ = 0;          // PostgreSQL's max_connections, read once
  long long last_running_seen_ = 0;  // the total running the last claim under limits saw
  bool claim_refused_ = false;       // limits_cannot_bind held only a shared lock: claim nothing
  // `held_back`, if given, is set when a full limit held due jobs back (round_result::held_back).
  std::optional<std::vector<jobs::claimed_job>> take_limited(soci::session& s, const claim_request& next,
                                                             bool* held_back = nullptr);

  // Whether any of `done` is a snooze, whose tally record_snoozes() writes (sql_flow.cpp).
  static bool any_snooze(std::span<const jobs::completion> done);
  // Records the snooze tallies of the snoozes in `done` that were applied (not in `stale`), in the
  // transaction that applied them. Plain successes never come here.
  static void record_snoozes(soci::session& s, std::span<const jobs::completion> done,
                             std::span<const job_id> stale);

 private:
  template <class Act>
  std::int64_t on_dead_jobs(const char* op, const dead_filter& f, Act act);
  // The dead jobs among `found` (`in`: their id subquery) that carry a unique key take it back;
  // returns those that cannot, because another job holds it.
  std::set<std::int64_t> take_keys_back(soci::session& s, std::span<const std::int64_t> found,
                                        const std::string& in, long long now_us);
  template <class F, class Hook>
  static auto returning(F& f, const Hook& hook) {
    using result = std::invoke_result_t<F&, soci::session&>;
    if constexpr (std::is_void_v<result>) {
      hook([&](soci::session& s) { f(s); });
    } else {
      std::optional<result> out;
      hook([&](soci::session& s) { out.emplace(f(s)); });
      return std::move(*out);
    }
  }

  std::vector<schema> schemas_;  // the core's first
};

}  // namespace spool::store
