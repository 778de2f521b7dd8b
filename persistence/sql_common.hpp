#pragma once
// The store operations whose SQL is the same on SQLite and PostgreSQL: operator views and
// actions, maintenance reads, leadership and the node registry. Each store calls them inside its
// own transaction wrapper; none of them begins or commits.
#include <span>
#include <string>
#include <string_view>

#include "persistence/schema.hpp"
#include "persistence/store.hpp"

namespace soci {
class session;
}

namespace spool::store::sql {

// What differs between the two dialects in the statements below.
struct dialect {
  // A subquery yielding the integers of the JSON array bound as `:ids`.
  std::string_view id_list;
};
inline constexpr dialect sqlite_dialect{"SELECT value FROM json_each(:ids)"};
inline constexpr dialect postgres_dialect{
    "SELECT CAST(jsonb_array_elements_text(CAST(:ids AS jsonb)) AS bigint)"};

// "[1,2,3]": how id sets are bound (see dialect::id_list).
std::string json_ints(std::span<const std::int64_t> ids);

// A batch of completions as one JSON array, one
// [id, lease, next, attempt, at, run_at, note, err_attempt, err_at, err_msg] per completion
// (absent fields null), for the stores to load with one statement.
std::string completions_json(std::span<const jobs::completion> batch, bool skip_plain_successes);
// A success with no note and no error: the commonest completion by far.
bool plain_success(const jobs::completion& c);

// Applies the migrations not yet recorded in schema_migrations, each in its own transaction
// begun with `begin`; returns how many ran.
int apply_migrations(soci::session& s, std::span<const migration> all, const std::string& begin);

void ping(soci::session& s);
std::optional<time_point> next_due(soci::session& s, const std::string& queue, time_point now);
std::vector<expired_job> expired(soci::session& s, time_point now, int limit);
// The running jobs with a cancel request; drops requests whose job no longer runs.
std::vector<job_id> cancel_requests(soci::session& s);

std::optional<jobs::job> get(soci::session& s, job_id id, time_point now);
std::vector<jobs::job> list(soci::session& s, const list_filter& filter, time_point now);
stats count(soci::session& s, time_point now);
cancel_result cancel(soci::session& s, job_id id, time_point now);
retry_result retry_now(soci::session& s, job_id id, time_point now);
std::int64_t requeue_dead(soci::session& s, const dialect& d, const dead_filter& which, time_point now);
std::int64_t purge_dead(soci::session& s, const dialect& d, const dead_filter& which);

bool lead(soci::session& s, const std::string& node, time_point now, jobs::duration ttl);
void resign(soci::session& s, const std::string& node);
void heartbeat(soci::session& s, const node_info& node, time_point now);
void forget_node(soci::session& s, const std::string& id);
std::int64_t forget_nodes_before(soci::session& s, time_point before);
std::vector<node_info> nodes(soci::session& s, time_point now);

}  // namespace spool::store::sql
