#include "persistence/store.hpp"

#include "persistence/pg_store.hpp"
#include "persistence/sqlite_store.hpp"

namespace spool::store {

namespace {
bool is_postgres(const std::string& url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}
}  // namespace

insert_and_claim_result store::insert_and_claim(std::span<const jobs::new_job> batch,
                                                time_point now,
                                                std::span<const claim_request> claims) {
  insert_and_claim_result r;
  r.inserted = insert(batch, now);
  for (const auto& c : claims) r.claimed.push_back(claim(c.queue, c.limit, c.worker, c.now, c.lease_until));
  return r;
}

round_result store::complete_and_claim(std::span<const jobs::completion> done,
                                       const claim_request& next) {
  round_result r;
  if (!done.empty()) r.stale = complete(done);
  if (next.limit > 0) r.claimed = claim(next.queue, next.limit, next.worker, next.now, next.lease_until);
  if (next.want_next_due) r.next_due = next_due(next.queue, next.now);
  return r;
}

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
