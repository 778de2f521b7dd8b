// Operator views and actions, maintenance reads, leadership and the node registry of the SQLite
// store: the portable SQL of sql_common inside this store's transactions.
#include "persistence/sql_common.hpp"
#include "persistence/sqlite_detail.hpp"

namespace spool::store {

void sqlite_store::ping() {
  read("ping", [&] { sql::ping(*sql_); });
}

std::vector<expired_job> sqlite_store::expired(time_point now, int limit) {
  return read("find expired leases", [&] { return sql::expired(*sql_, now, limit); });
}

std::vector<job_id> sqlite_store::cancel_requests() {
  return write("read cancel requests", false, [&] { return sql::cancel_requests(*sql_); });
}

std::optional<jobs::job> sqlite_store::get(job_id id, time_point now) {
  return read("read job", [&] { return sql::get(*sql_, id, now); });
}

std::vector<jobs::job> sqlite_store::list(const list_filter& filter, time_point now) {
  return read("list jobs", [&] { return sql::list(*sql_, filter, now); });
}

stats sqlite_store::count(time_point now) {
  return read("count jobs", [&] { return sql::count(*sql_, now); });
}

cancel_result sqlite_store::cancel(job_id id, time_point now) {
  return write("cancel job", false, [&] { return sql::cancel(*sql_, id, now); });
}

retry_result sqlite_store::retry_now(job_id id, time_point now) {
  return write("retry job now", false, [&] { return sql::retry_now(*sql_, id, now); });
}

std::int64_t sqlite_store::requeue_dead(const dead_filter& which, time_point now) {
  return write("requeue dead jobs", false,
               [&] { return sql::requeue_dead(*sql_, sql::sqlite_dialect, which, now); });
}

std::int64_t sqlite_store::purge_dead(const dead_filter& which) {
  return write("purge dead jobs", false,
               [&] { return sql::purge_dead(*sql_, sql::sqlite_dialect, which); });
}

bool sqlite_store::lead(const std::string& node, time_point now, jobs::duration ttl) {
  return write("take leadership", false, [&] { return sql::lead(*sql_, node, now, ttl); });
}

void sqlite_store::resign(const std::string& node) {
  write("resign leadership", false, [&] { sql::resign(*sql_, node); });
}

void sqlite_store::heartbeat(const node_info& node, time_point now) {
  write("record node", false, [&] { sql::heartbeat(*sql_, node, now); });
}

void sqlite_store::forget_node(const std::string& id) {
  write("remove node", false, [&] { sql::forget_node(*sql_, id); });
}

std::int64_t sqlite_store::forget_nodes_before(time_point before) {
  return write("remove silent nodes", false, [&] { return sql::forget_nodes_before(*sql_, before); });
}

std::vector<node_info> sqlite_store::nodes(time_point now) {
  return read("list nodes", [&] { return sql::nodes(*sql_, now); });
}

void sqlite_store::notify(const std::string&) {}

}  // namespace spool::store
