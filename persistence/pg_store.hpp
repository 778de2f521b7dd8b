#pragma once
// Private to persistence/: open it through store::open. The store for many runtime nodes
// sharing one PostgreSQL database, through SOCI's postgresql backend. One instance is one
// connection, used by one thread at a time (db_executor gives each of its threads one). Claims
// take rows with FOR UPDATE SKIP LOCKED, so nodes never wait for each other; an enqueue NOTIFYs
// the queue's channel in its transaction. Enqueues commit durably; claims, completions and lease
// renewals with synchronous_commit off (a lost one only means a rerun). A lost connection is
// reopened by the next call; until then calls fail with store_error.
#include <memory>
#include <string>

#include "persistence/sql_store.hpp"

namespace spool::store {

class pg_store final : public sql_store {
 public:
  // options.relaxed_enqueue: enqueues commit with synchronous_commit off too.
  pg_store(const location& where, const open_options& options);
  ~pg_store() override;

  int migrate() override;
  insert_and_claim_result insert_and_claim(std::span<const jobs::new_job> batch, time_point now,
                                           std::span<const claim_request> claims) override;
  round_result complete_and_claim(std::span<const jobs::completion> done,
                                  const claim_request& next) override;
  void renew(std::span<const lease_id> leases, time_point until) override;
  std::optional<time_point> next_due(const std::string& queue, time_point now) override;
  void notify(const std::string& payload) override;

 protected:
  void run(const char* op, const session_work& work) override;
  void run_write(const char* op, bool durable, const session_work& work) override;

 private:
  struct statements;
  void connect();
  void ready();                   // connected, migrated, statements prepared
  void forget_dead_connection();  // after a failure: drops the connection if it is gone
  // Inside a transaction: the enqueue's rows (pg_insert).
  std::vector<insert_result> insert_in_transaction(std::span<const jobs::new_job> batch,
                                                   time_point now) override;
  // The claim of a round or a standing claim inside a transaction: the round statement's claim,
  // or under limits take_limited() first.
  std::vector<jobs::claimed_job> claim_in_transaction(const claim_request& next, bool* held_back = nullptr);
  // `parents`, if given, receives the applied completions' jobs that ended dead or cancelled and
  // have dependants (those that completed are counted down in the statement).
  round_result run_round(std::span<const jobs::completion> done, const claim_request& next,
                         std::vector<job_id>* parents = nullptr);
  // st_->insert.rows, and with dependencies the pending state and the edges (attach_dependencies).
  std::vector<insert_result> insert_rows(std::span<const jobs::new_job> batch, time_point now);
  std::optional<time_point> find_next_due(const std::string& queue, time_point now);
  // Those of ended_jobs(done, stale) that are in `parents`.
  static std::vector<std::pair<job_id, jobs::state>> failed_ended(std::span<const jobs::completion> done,
                                                                  std::span<const job_id> stale,
                                                                  std::span<const job_id> parents);

  location where_;
  std::unique_ptr<soci::session> sql_;
  std::unique_ptr<statements> st_;
  bool migrated_ = false;
  bool relaxed_enqueue_ = false;
};

}  // namespace spool::store
