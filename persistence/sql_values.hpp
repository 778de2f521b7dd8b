#pragma once
// How the stores bind a set of values as one parameter: id arrays and batches of completions.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "jobs/lifecycle.hpp"

namespace spool::store {

// The two notations of an id array: JSON "[1,2,3]" (SQLite's json_each, PostgreSQL's jsonb; see
// dialect::id_list) and PostgreSQL's array literal "{1,2,3}" (CAST(:ids AS bigint[])).
enum class id_notation { json, postgres_array };
std::string id_array(std::span<const std::int64_t> ids, id_notation n = id_notation::json);

// A success with no note and no error: the commonest completion by far.
bool plain_success(const jobs::completion& c);

// A batch of completions as one JSON array, one
// [id, lease, next, attempt, at, run_at, note, err_attempt, err_at, err_msg, result] per
// completion (absent fields null or left out; the result is JSON as it is), for the stores to
// load with one statement.
std::string completions_json(std::span<const jobs::completion> batch, bool skip_plain_successes);

}  // namespace spool::store

namespace spool::store {

// The job that holds unique key `key` at `now`: the one its unique_keys row names, while that job
// is in one of the states it chose, or completed for less than its unique_for (jobs/unique.hpp).
// One text for both stores; the placeholders are the caller's, `now` appears twice (SOCI binds by
// position). Returns no row when the key is free.
std::string unique_holder_sql(std::string_view key, std::string_view now1, std::string_view now2);

}  // namespace spool::store
