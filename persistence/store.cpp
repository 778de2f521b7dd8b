#include "persistence/store.hpp"

#include "persistence/pg_store.hpp"
#include "persistence/sqlite_store.hpp"

namespace spool::store {

namespace {
bool is_postgres(const std::string& url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}
}  // namespace

backend backend_of(const std::string& url) {
  if (url.starts_with("sqlite:")) return backend::sqlite;
  if (is_postgres(url)) return backend::postgresql;
  throw store_error("unsupported database URL '" + pg_store::redact(url) +
                    "' (expected sqlite:PATH or postgresql://USER:PASSWORD@HOST:PORT/DBNAME)");
}

std::unique_ptr<store> open(const std::string& url, const open_options& options) {
  if (backend_of(url) == backend::postgresql)
    return std::make_unique<pg_store>(url, options.relaxed_enqueue);
  std::string path = url.substr(std::string_view("sqlite:").size());
  if (path.starts_with("//")) path.erase(0, 2);
  if (path.empty()) throw store_error("database URL '" + url + "' names no file");
  return std::make_unique<sqlite_store>(path, options.relaxed_enqueue);
}

}  // namespace spool::store
