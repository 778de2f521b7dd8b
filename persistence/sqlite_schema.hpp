#pragma once
#include <span>
#include <string_view>

namespace spool::store {

struct migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// The SQLite schema as numbered migrations, applied in order, each in its own transaction.
std::span<const migration> sqlite_migrations();

}  // namespace spool::store
