// Migrations of every schema a store was opened with, recorded per schema in
// applied_migrations. A database made before schemas were recorded by name holds one list,
// schema_migrations (versions 1 to 4 on SQLite, 1 to 3 on PostgreSQL), which is adopted in place:
// a migration whose legacy_version that list holds is recorded without running it again. The old
// list is read, never written or dropped: a schema passed in later (`spool run` after a
// `spool enqueue` that migrated only the core) adopts its part then.
#include <soci/soci.h>

#include <set>

#include "persistence/sql_store.hpp"
#include "persistence/sql_transaction.hpp"
#include "persistence/time_codec.hpp"

namespace spool::store {

using soci::into;
using soci::use;

sql_store::sql_store(const dialect& d, std::vector<schema> schemas) : dialect_(d) {
  schemas_.push_back(core_schema());
  std::set<std::string> names;
  for (auto& s : schemas) {
    if (s.name.empty() || s.name == core_schema().name || !names.insert(s.name).second)
      throw store_error("schema name '" + s.name + "' is empty, reserved or used twice");
    for (std::size_t i = 1; i < s.migrations.size(); ++i)
      if (s.migrations[i].version <= s.migrations[i - 1].version)
        throw store_error("the migrations of schema '" + s.name + "' are not in ascending order");
    schemas_.push_back(std::move(s));
  }
}

void sql_store::require_migrated(soci::session& s, const std::string& where) {
  const auto missing = [&] { return store_error("'" + where + "' is not migrated"); };
  int recorded = 0;
  const std::string table = "applied_migrations";
  s << dialect_.count_tables, into(recorded), use(table);
  if (!recorded) throw missing();
  for (const auto& component : schemas_)
    for (const auto& m : component.migrations) {
      int present = 0;
      s << "SELECT COUNT(*) FROM applied_migrations WHERE component = :c AND version = :v",
          into(present), use(component.name), use(m.version);
      if (!present) throw missing();
    }
}

int sql_store::apply_migrations(soci::session& s) {
  s << "CREATE TABLE IF NOT EXISTS applied_migrations (component TEXT NOT NULL, "
       "version INTEGER NOT NULL, name TEXT NOT NULL, applied_at BIGINT NOT NULL, "
       "PRIMARY KEY (component, version))";
  int legacy = 0;
  const std::string legacy_table = "schema_migrations";
  s << dialect_.count_tables, into(legacy), use(legacy_table);
  int ran = 0;
  for (const auto& component : schemas_) {
    for (const auto& m : component.migrations) {
      sql::transaction tx(s, std::string(dialect_.begin_write));
      int present = 0;
      s << "SELECT COUNT(*) FROM applied_migrations WHERE component = :c AND version = :v",
          into(present), use(component.name), use(m.version);
      if (present) continue;  // the guard rolls the empty transaction back
      int adopted = 0;
      if (legacy && m.legacy_version)
        s << "SELECT COUNT(*) FROM schema_migrations WHERE version = :v", into(adopted),
            use(m.legacy_version);
      if (!adopted)
        for (const auto& stmt : split_statements(m.*dialect_.migration_text)) s << stmt;
      const long long now_us = to_us(jobs::now());
      const std::string name(m.name);
      s << "INSERT INTO applied_migrations (component, version, name, applied_at) "
           "VALUES (:c, :v, :n, :t)",
          use(component.name), use(m.version), use(name), use(now_us);
      tx.commit();
      if (!adopted) ++ran;
    }
  }
  return ran;
}

void sql_store::ping() {
  call("ping", [&](soci::session& s) {
    int n = 0;
    s << "SELECT COUNT(*) FROM applied_migrations WHERE component = 'core'", into(n);
    if (n == 0) throw store_error("no migrations applied");
  });
}

}  // namespace spool::store
