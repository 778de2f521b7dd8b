#pragma once
// Schemas as numbered migrations, each declared once with its text for both dialects side by
// side, so that both reach the same version. The store's own tables are the "core" schema; a
// component above it (the AI kinds, an embedding application's own kinds) brings its tables as a
// schema of its own, which store::open takes in open_options::schemas and migrate() applies
// after the core's. Each schema's migrations are recorded under its name.
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace spool::store {

struct migration {
  int version = 0;  // ascending within its schema, never reused
  std::string_view name;
  // The statements of each dialect, separated by ";" (so none in comments). Empty where a
  // dialect needs nothing for this step: say why beside it. Text with static storage (literals).
  std::string_view sqlite;
  std::string_view postgresql;
  // The version under which a database made before schemas were recorded by name (table
  // schema_migrations, one list for everything) holds this step already; 0: none. Such a step is
  // recorded as applied without running it again.
  int legacy_version = 0;
};

// Rows of a component's table that belong to one job (`job_column` holds its id): they go with
// the job when it is pruned or purged. The column should be indexed.
struct owned_rows {
  std::string table;
  std::string job_column;
};

struct schema {
  std::string name;  // unique among a store's schemas; "core" is the store's own
  std::vector<migration> migrations;
  std::vector<owned_rows> job_rows = {};
};

// The store's own tables: jobs, their states, leases, leadership and the node registry.
const schema& core_schema();

// A migration's statements, one at a time (SOCI prepares one statement per call).
inline std::vector<std::string> split_statements(std::string_view sql) {
  std::vector<std::string> out;
  while (!sql.empty()) {
    const auto end = sql.find(';');
    std::string stmt(sql.substr(0, end));
    sql = end == std::string_view::npos ? std::string_view{} : sql.substr(end + 1);
    if (stmt.find_first_not_of(" \n\t") != std::string::npos) out.push_back(std::move(stmt));
  }
  return out;
}

}  // namespace spool::store
