#pragma once
#include <memory>
#include <string>

#include "persistence/store.hpp"

namespace soci {
class session;
}

namespace spool::store {

// The store for many runtime nodes sharing one PostgreSQL database, through SOCI's postgresql
// backend. One instance is one connection, used by one thread at a time (db_executor gives each
// of its threads one). Claims take rows with FOR UPDATE SKIP LOCKED, so nodes never wait for each
// other; an enqueue NOTIFYs the queue's channel in its transaction. Enqueues commit durably;
// claims, completions and lease renewals with synchronous_commit off (a lost one only means a
// rerun). A lost connection is reopened by the next call; until then calls fail with store_error.
class pg_store final : public store {
 public:
  // `url`: a libpq connection URI or keyword/value string.
  // relaxed_enqueue: enqueues commit with synchronous_commit off too (see open_options).
  explicit pg_store(std::string url, bool relaxed_enqueue = false);
  ~pg_store() override;

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

  // The channel an enqueue NOTIFYs, with the queue's name as payload.
  static constexpr const char* channel = "spool_jobs";
  // The keyword/value connection string SOCI is given for a URL; throws store_error if invalid.
  static std::string conninfo(const std::string& url);
  // The URL with its password masked, for messages and logs.
  static std::string redact(const std::string& url);

 private:
  struct statements;
  void connect();
  void ready();                   // connected, migrated, statements prepared
  void forget_dead_connection();  // after a failure: drops the connection if it is gone
  std::vector<insert_result> insert_rows(std::span<const jobs::new_job> batch, time_point now);
  round_result run_round(std::span<const jobs::completion> done, const claim_request& next);
  template <class F>
  auto guarded(const char* op, F&& f);
  template <class F>
  auto write(const char* op, bool durable, F&& f);

  std::string url_;
  std::string shown_url_;
  std::unique_ptr<soci::session> sql_;
  std::unique_ptr<statements> st_;
  bool migrated_ = false;
  bool relaxed_enqueue_ = false;
};

}  // namespace spool::store
