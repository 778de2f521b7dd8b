#pragma once
#include <memory>
#include <string>

#include "persistence/store.hpp"

namespace soci {
class session;
}

namespace spool::store {

// The embedded store: one SQLite file in WAL mode through SOCI. One instance is one connection and
// must be used by one thread at a time. Enqueues commit with synchronous=FULL; claims and
// completions with NORMAL (a lost claim or completion after a power cut only means a rerun).
class sqlite_store final : public store {
 public:
  // relaxed_enqueue: enqueues commit with synchronous=NORMAL too (see open_options).
  explicit sqlite_store(const std::string& path, bool relaxed_enqueue = false);
  ~sqlite_store() override;

  int migrate() override;
  void ping() override;
  insert_and_claim_result insert_and_claim(std::span<const jobs::new_job> batch, time_point now,
                                           std::span<const claim_request> claims) override;
  round_result complete_and_claim(std::span<const jobs::completion> done,
                                  const claim_request& next) override;
  void renew(std::span<const lease_id> leases, time_point until) override;
  std::vector<expired_job> expired(time_point now, int limit) override;
  std::optional<time_point> next_due(const std::string& queue, time_point now) override;
  std::vector<job_id> cancel_requests() override;

  std::optional<jobs::job> get(job_id id, time_point now) override;
  std::vector<jobs::job> list(const list_filter& filter, time_point now) override;
  stats count(time_point now) override;
  cancel_result cancel(job_id id, time_point now) override;
  retry_result retry_now(job_id id, time_point now) override;
  std::int64_t requeue_dead(const dead_filter& which, time_point now) override;
  std::int64_t purge_dead(const dead_filter& which) override;

  bool lead(const std::string& node, time_point now, jobs::duration ttl) override;
  void resign(const std::string& node) override;
  void heartbeat(const node_info& node, time_point now) override;
  void forget_node(const std::string& id) override;
  std::int64_t forget_nodes_before(time_point before) override;
  std::vector<node_info> nodes(time_point now) override;
  void notify(const std::string& payload) override;

 private:
  struct statements;
  struct transaction_statements;
  class transaction_guard;
  void prepare();
  void set_synchronous(bool full);
  // Inside a transaction: the enqueue's rows, the claim, and the earliest scheduled run_at of a
  // queue.
  std::vector<insert_result> insert_rows(std::span<const jobs::new_job> batch, time_point now);
  std::vector<jobs::claimed_job> take(const claim_request& next);
  std::optional<time_point> find_next_due(const std::string& queue, time_point now);
  std::optional<long long> next_level(const std::string& queue, std::optional<long long> after);
  // The two halves of complete(), inside its transaction; each returns the stale ids.
  std::vector<job_id> complete_successes(std::span<const jobs::completion> batch);
  std::vector<job_id> complete_others(std::span<const jobs::completion> batch);
  template <class F>
  auto write(const char* op, bool durable, F&& f);
  template <class F>
  auto read(const char* op, F&& f);

  std::string path_;
  std::unique_ptr<soci::session> sql_;
  std::unique_ptr<transaction_statements> tx_;
  std::unique_ptr<statements> st_;
  int synchronous_ = -1;
  bool relaxed_enqueue_ = false;
  bool migrated_ = false;
};

}  // namespace spool::store
