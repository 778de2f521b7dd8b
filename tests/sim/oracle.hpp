#pragma once
// The oracle: a model of what the database must hold, built only from what the real store
// answered (through the store double's witness), and the invariants checked against the real
// store after every step.
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "jobs/lifecycle.hpp"
#include "runtime/job_runner.hpp"
#include "tests/sim/faulty_store.hpp"

namespace spool::sim {

// An invariant broke: the run stops and prints its seed and the tail of its log.
struct violation : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class oracle final : public store_witness {
 public:
  // `reader` is a connection of its own, without faults, used only to look.
  oracle(world& w, store::store& reader) : w_(w), reader_(reader) {}

  void inserted(std::span<const jobs::new_job> batch,
                const std::vector<store::insert_result>& result, time_point now) override;
  void claimed(const std::string& queue, int limit, const std::string& worker, time_point now,
               time_point until, const std::vector<jobs::claimed_job>& result) override;
  void completed(std::span<const jobs::completion> batch,
                 const std::vector<jobs::job_id>& stale) override;
  void renewed(std::span<const jobs::lease_id> leases, time_point until) override;
  void listed_expired(time_point now, int limit,
                      const std::vector<store::expired_job>& result) override;
  void failed_unprompted(const std::string& op, const std::string& error) override;
  void settled_pending(time_point now, std::int64_t settled) override;

  // A client got the reply to its enqueue: these jobs are acknowledged and must never be lost.
  void acknowledged(const std::vector<store::insert_result>& result);
  // What the runtime's settle() made of an attempt it cancelled (or not).
  void settled(const jobs::outcome& raw, runtime::cancel_reason why, const jobs::outcome& result);
  // A transition made by the real jobs::decide, checked against the policy computed here anew.
  void decided(jobs::job_id id, int attempt, int max_attempts, const jobs::retry_policy& policy,
               const jobs::outcome& result, time_point now, const jobs::transition& t);

  // After a step: the real store holds exactly what the model says. Steps after which the model
  // did not change, or changed only lease ends (no store call, a read, a claim that found
  // nothing, a renewal), are not compared again: what they could have broken stays broken until
  // the next comparison. `deep` (at the end of a run) also compares every job's error history.
  void check(bool deep = false);
  bool all_final() const;
  // Fails on the first job that is not final (completed, cancelled or dead).
  void require_final() const;
  std::size_t jobs() const { return jobs_.size(); }
  std::size_t acked() const;
  // The ids of the jobs inserted so far, ended or not: parents for new dependants.
  std::vector<jobs::job_id> inserted_ids() const;

 private:
  // pending: waits in `ready` for its parents, never due (store::pending_run_at).
  enum class place { pending, ready, running, completed, cancelled, dead };
  struct model_job {
    std::string kind, queue;
    std::optional<std::string> unique_key;  // held in ready and running (the default states)
    int priority = 0;
    int max_attempts = 0;
    place where = place::ready;
    int attempt = 0;  // as the store shows it: attempts used, or the one under way while running
    time_point run_at;
    jobs::lease_id lease = 0;
    std::string note;
    std::vector<jobs::error_entry> errors;
    bool acked = false;
    int used_seen = 0;  // attempts used, as last read from the real store
    std::vector<std::string> history;
    std::vector<jobs::job_id> parents;  // depends_on and needs, as ids
    bool run_anyway = false;            // on_parent_failure run
    bool ran = false;                   // claimed at least once
  };
  struct model_lease {
    std::string worker;
    time_point until;
    int running = 0;
  };

  [[noreturn]] void fail(const std::string& what) const;
  [[noreturn]] void fail(jobs::job_id id, const std::string& what) const;
  void record(jobs::job_id id, const std::string& what);
  jobs::state expected_state(const model_job& j, time_point now) const;
  // The job that holds `key` now by the model: one waiting or running with it, if any.
  std::optional<jobs::job_id> holder(const std::string& key) const;
  void apply(const jobs::completion& c, model_job& j);
  static bool final(place p) { return p == place::completed || p == place::cancelled || p == place::dead; }
  // A parent of `j` that ended dead or cancelled, if any.
  std::optional<jobs::job_id> failed_parent(const model_job& j) const;
  bool parents_ended(const model_job& j) const;
  // The note of a dependant cancelled because `parent` ended dead or cancelled.
  std::string parent_note(jobs::job_id parent) const;
  bool names_failed_parent(const model_job& m, const std::string& note) const;
  // What the store does in the transaction in which a parent ends or a dependant is inserted:
  // pending jobs whose parents all ended become due at `at`, those with a failed parent (and
  // on_parent_failure cancel) are cancelled, and so on down their own dependants.
  void settle(time_point at);

  world& w_;
  store::store& reader_;
  std::map<jobs::job_id, model_job> jobs_;
  std::map<jobs::lease_id, model_lease> leases_;
  jobs::lease_id last_lease_ = 0;
  bool touched_ = true;  // the model changed since the last comparison
};

}  // namespace spool::sim
