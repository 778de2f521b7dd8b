#include "tests/e2e/seed.hpp"

#include "jobs/validation.hpp"
#include "kinds/ai/schema.hpp"
#include "persistence/store.hpp"

namespace spool::e2e {

std::vector<long long> seed_jobs(const std::string& db_url, const std::vector<seed_job>& jobs) {
  std::vector<spool::jobs::new_job> batch;
  batch.reserve(jobs.size());
  for (auto& j : jobs) {
    spool::jobs::new_job n;
    n.kind = j.kind;
    n.payload = j.payload;
    if (auto why = spool::jobs::check(n)) throw std::invalid_argument(*why);
    batch.push_back(std::move(n));
  }
  // Every schema `spool` has, as `spool migrate` would: its read-only commands refuse a database
  // that lacks one, and the tests read through them while the runtimes start.
  auto store = spool::store::open(db_url, {.schemas = {spool::kinds::ai::schema()}});
  store->migrate();
  std::vector<long long> ids;
  for (auto& r : store->insert(batch, spool::jobs::now())) ids.push_back(r.id);
  return ids;
}

}  // namespace spool::e2e
