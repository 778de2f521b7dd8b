#include "persistence/store.hpp"

#include "persistence/sqlite_store.hpp"

namespace spool::store {

std::unique_ptr<store> open(const std::string& url) {
  constexpr std::string_view sqlite_prefix = "sqlite:";
  if (url.starts_with(sqlite_prefix)) {
    std::string path = url.substr(sqlite_prefix.size());
    if (path.starts_with("//")) path.erase(0, 2);
    if (path.empty()) throw store_error("database URL '" + url + "' names no file");
    return std::make_unique<sqlite_store>(path);
  }
  if (url.starts_with("postgres")) throw store_error("PostgreSQL is not supported yet: '" + url + "'");
  throw store_error("unsupported database URL '" + url + "' (expected sqlite:PATH)");
}

}  // namespace spool::store
