#pragma once
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace spool::store {

struct migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// Each store's schema as numbered migrations, applied in order, each in its own transaction. The
// numbers mean the same change in both dialects. Statements are separated by ";" (so none in
// comments).
std::span<const migration> sqlite_migrations();
std::span<const migration> postgres_migrations();

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
