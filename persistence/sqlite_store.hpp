#pragma once
// Private to persistence/: open it through store::open. The embedded store: one SQLite file in
// WAL mode through SOCI. One instance is one connection and must be used by one thread at a
// time. Enqueues commit with synchronous=FULL; claims and completions with NORMAL (a lost claim
// or completion after a power cut only means a rerun).
#include <memory>
#include <string>

#include "persistence/sql_store.hpp"
#include "persistence/sqlite_statement.hpp"

namespace spool::store {

class count_deltas;
class sqlite_insert;

class sqlite_store final : public sql_store {
 public:
  // options.relaxed_enqueue: enqueues commit with synchronous=NORMAL too.
  sqlite_store(const location& where, const open_options& options);
  ~sqlite_store() override;

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
  void prepare();
  void set_synchronous(bool full);
  // Inside a transaction: the enqueue's rows (sqlite_insert), the claim, and the earliest
  // scheduled run_at of a queue.
  std::vector<insert_result> insert_in_transaction(std::span<const jobs::new_job> batch,
                                                   time_point now) override;
  // insert_->rows, and with dependencies the pending state and the edges (attach_dependencies).
  std::vector<insert_result> insert_rows(std::span<const jobs::new_job> batch, time_point now);
  // Whether any of these jobs has dependants (one probe statement).
  bool has_dependants(std::span<const std::pair<job_id, jobs::state>> ended);
  // The claim of a round or a standing claim, in its transaction: take(), or take_limited().
  std::vector<jobs::claimed_job> claim_in_transaction(const claim_request& next, bool* held_back = nullptr);
  std::vector<jobs::claimed_job> take(const claim_request& next);
  std::optional<time_point> find_next_due(const std::string& queue, time_point now);
  std::optional<long long> next_level(const std::string& queue, std::optional<long long> after);
  // The two halves of complete(), inside its transaction; each returns the stale ids.
  std::vector<job_id> complete_successes(std::span<const jobs::completion> batch);
  std::vector<job_id> complete_others(std::span<const jobs::completion> batch);
  // Inside the transaction that made them: the changes wait in pending_counts_ and are written
  // once, just before the commit, summed over the whole transaction (a round's claim and
  // completions touch the same few rows), zeros left out, a few rows per statement.
  void add_counts(const count_deltas& counts);
  void write_counts();

  std::string path_;
  std::unique_ptr<soci::session> sql_;
  std::unique_ptr<sqlite_transaction::statements> tx_;
  std::unique_ptr<statements> st_;
  std::unique_ptr<count_deltas> pending_counts_;
  std::unique_ptr<sqlite_insert> insert_;
  int synchronous_ = -1;
  bool relaxed_enqueue_ = false;
  bool migrated_ = false;
};

}  // namespace spool::store
