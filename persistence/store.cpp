#include "persistence/store.hpp"

#include "persistence/backends.hpp"
#include "persistence/database_url.hpp"

namespace spool::store {

std::unique_ptr<store> open(const std::string& url, const open_options& options) {
  const auto where = locate(url);
  if (where.backend == backend::postgresql) return open_postgres(where, options);
  return open_sqlite(where, options);
}

}  // namespace spool::store
