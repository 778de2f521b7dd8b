// Operator views and actions, maintenance reads, leadership and the node registry of the
// PostgreSQL store: the portable SQL of sql_common inside this store's transactions.
#include "persistence/pg_detail.hpp"
#include "persistence/sql_common.hpp"

namespace spool::store {

void pg_store::ping() {
  guarded("ping", [&] { sql::ping(*sql_); });
}

std::vector<expired_job> pg_store::expired(time_point now, int limit) {
  return guarded("find expired leases", [&] { return sql::expired(*sql_, now, limit); });
}

std::optional<time_point> pg_store::next_due(const std::string& queue, time_point now) {
  return guarded("find next due job", [&] { return sql::next_due(*sql_, queue, now); });
}

std::vector<job_id> pg_store::cancel_requests() {
  return write("read cancel requests", false, [&] { return sql::cancel_requests(*sql_); });
}

std::optional<jobs::job> pg_store::get(job_id id, time_point now) {
  return guarded("read job", [&] { return sql::get(*sql_, id, now); });
}

std::vector<jobs::job> pg_store::list(const list_filter& filter, time_point now) {
  return guarded("list jobs", [&] { return sql::list(*sql_, filter, now); });
}

stats pg_store::count(time_point now) {
  return guarded("count jobs", [&] { return sql::count(*sql_, now); });
}

cancel_result pg_store::cancel(job_id id, time_point now) {
  return write("cancel job", true, [&] { return sql::cancel(*sql_, id, now); });
}

retry_result pg_store::retry_now(job_id id, time_point now) {
  return write("retry job now", true, [&] { return sql::retry_now(*sql_, id, now); });
}

std::int64_t pg_store::requeue_dead(const dead_filter& which, time_point now) {
  return write("requeue dead jobs", true,
               [&] { return sql::requeue_dead(*sql_, sql::postgres_dialect, which, now); });
}

std::int64_t pg_store::purge_dead(const dead_filter& which) {
  return write("purge dead jobs", true,
               [&] { return sql::purge_dead(*sql_, sql::postgres_dialect, which); });
}

bool pg_store::lead(const std::string& node, time_point now, jobs::duration ttl) {
  return write("take leadership", true, [&] { return sql::lead(*sql_, node, now, ttl); });
}

void pg_store::resign(const std::string& node) {
  write("resign leadership", true, [&] { sql::resign(*sql_, node); });
}

void pg_store::heartbeat(const node_info& node, time_point now) {
  write("record node", false, [&] { sql::heartbeat(*sql_, node, now); });
}

void pg_store::forget_node(const std::string& id) {
  write("remove node", false, [&] { sql::forget_node(*sql_, id); });
}

std::int64_t pg_store::forget_nodes_before(time_point before) {
  return write("remove silent nodes", false, [&] { return sql::forget_nodes_before(*sql_, before); });
}

std::vector<node_info> pg_store::nodes(time_point now) {
  return guarded("list nodes", [&] { return sql::nodes(*sql_, now); });
}

}  // namespace spool::store
