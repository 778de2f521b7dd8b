// Concurrency limits in the claim (jobs/limits.hpp): portable SQL over the skeleton's session.
// A claim under limits counts what runs now and takes only due jobs that fit, in the claim's
// own transaction; on PostgreSQL one transaction-scoped advisory lock per limit makes the
// claimers of every node count one after the other (SQLite has one writer at a time anyway).
// Slots come back when jobs leave `running`: completed, failed, or rescued with a dead node's
// leases.
#include <boost/json.hpp>
#include <soci/soci.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "persistence/job_counts.hpp"
#include "persistence/sql_store.hpp"
#include "persistence/sql_values.hpp"
#include "persistence/time_codec.hpp"

namespace spool::store {

using soci::into;
using soci::use;

namespace {

// Rows a claim reads past those it takes (jobs of full partitions) before it gives up until its
// next round: a bound on one claim's work, not on correctness.
constexpr long long scan_budget = 5000;

std::string kinds_json(const std::vector<std::string>& kinds) {
  boost::json::array a;
  for (const auto& k : kinds) a.emplace_back(k);
  return boost::json::serialize(a);
}

// The running jobs a limit counts, with :k1/:k2 its kind and :q1/:q2 its queue ("" matches any).
#define SPOOL_COUNTED_RUNNING                                                                   \
  " FROM running r JOIN jobs j ON j.id = r.id WHERE (CAST(:k1 AS TEXT) = '' OR j.kind = :k2) " \
  "AND (CAST(:q1 AS TEXT) = '' OR r.queue = :q2)"
constexpr const char* count_running_sql = "SELECT COUNT(*)" SPOOL_COUNTED_RUNNING;
constexpr const char* running_payloads_sql = "SELECT j.payload" SPOOL_COUNTED_RUNNING;
#undef SPOOL_COUNTED_RUNNING

void read_running(soci::session& s, const jobs::concurrency_limit& l, std::size_t index,
                  jobs::limit_ledger& ledger, limit_use* use_out) {
  std::string k1 = l.kind, k2 = l.kind, q1 = l.queue, q2 = l.queue;
  if (l.partition_by.empty()) {
    long long n = 0;
    s << count_running_sql, into(n), use(k1, "k1"), use(k2, "k2"),
        use(q1, "q1"), use(q2, "q2");
    if (n > 0) ledger.count_running({index, {}}, n);
    if (use_out && n > 0) use_out->running[""] = n;
    return;
  }
  std::string payload;
  soci::statement st = (s.prepare << running_payloads_sql,
                        into(payload), use(k1, "k1"), use(k2, "k2"), use(q1, "q1"), use(q2, "q2"));
  st.execute();
  while (st.fetch()) {
    auto value = jobs::partition_value(payload, l.partition_by);
    ledger.count_running({index, value}, 1);
    if (use_out) ++use_out->running[value];
  }
}

}  // namespace

bool sql_store::limits_cannot_bind(soci::session& s, const claim_request& next) {
  int smallest = next.limits.front().concurrency;
  for (const auto& l : next.limits) smallest = std::min(smallest, l.concurrency);
  // Everything running counts against no limit more than in all: while that and this claim fit
  // the smallest limit, none can bind. The total is read off the exact counters (job_counts, a
  // few rows), not counted in `running`, whose churn leaves PostgreSQL a heap of dead rows to
  // scan. (Jobs this round completes still count here: the answer errs on the safe side.)
  long long all_running = 0;
  auto read_total = [&] {
    s << "SELECT COALESCE(SUM(n), 0) FROM job_counts WHERE state = 'running'", into(all_running);
  };
  if (dialect_.backend != backend::postgresql) {
    read_total();
    return all_running + next.limit <= smallest;
  }
  // PostgreSQL: one advisory lock per limit, in the same order on every node (no deadlock).
  // Far from full, a claim takes them shared, so that claims do not wait for each other: the
  // limit then has room for every connection the server allows to claim a full round at once
  // (max_connections x max_round_jobs) on top of what it saw running. Nearer, exclusively (the
  // exact path, which waits for the shared holders to commit and so sees their claims). Which
  // one is decided by the total the last claim here saw; a shared claim that finds the limit
  // nearer than that claims nothing (take_limited says held back) and the next goes exclusive.
  if (max_connections_ == 0) {
    s << "SELECT CAST(setting AS INTEGER) FROM pg_settings WHERE name = 'max_connections'",
        into(max_connections_);
    max_connections_ = std::max(1, max_connections_);
  }
  const long long headroom = static_cast<long long>(max_connections_) * max_claim_jobs;
  const bool shared = last_running_seen_ + headroom <= smallest;
  std::vector<std::string> keys;
  for (const auto& l : next.limits) keys.push_back("spool limit " + l.name());
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  const std::string lock = shared ? "SELECT pg_advisory_xact_lock_shared(hashtextextended(:k, 0))"
                                  : "SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))";
  for (auto& k : keys) s << lock, use(k, "k");
  read_total();
  last_running_seen_ = all_running;
  if (!shared) return all_running + next.limit <= smallest;
  if (all_running + headroom <= smallest) return true;
  claim_refused_ = true;  // under a shared lock only: no exact claim now
  return false;
}

std::optional<std::vector<jobs::claimed_job>> sql_store::take_limited(soci::session& s,
                                                                     const claim_request& next,
                                                                     bool* held_back) {
  const bool postgres = dialect_.backend == backend::postgresql;
  if (std::exchange(claim_refused_, false)) {
    if (held_back) *held_back = true;
    return std::vector<jobs::claimed_job>{};
  }
  jobs::limit_ledger ledger(next.limits);
  for (std::size_t i = 0; i < next.limits.size(); ++i) read_running(s, next.limits[i], i, ledger, nullptr);

  // A claim that could not reach any limit even if all it took counted against each (a limit set
  // high, or far from full) is the plain claim: the caller makes it, in this transaction.
  if (!ledger.could_bind(next.limit)) return std::nullopt;

  std::vector<jobs::claimed_job> out;
  bool passed_over = false;
  // Whether a limit held due jobs back: some passed over, or a full one kept them from the reads.
  auto report = [&] {
    if (held_back)
      *held_back = passed_over || ledger.queue_full(next.queue) || !ledger.full_kinds(next.queue).empty();
  };
  if (ledger.queue_full(next.queue)) {
    report();
    return out;
  }

  // The due jobs of one priority level after a key, without the kinds whose limit is full, in
  // claim order; on PostgreSQL locked, skipping rows another claim holds.
  const std::string kind_list = postgres ? "SELECT jsonb_array_elements_text(CAST(:x AS jsonb))"
                                         : "SELECT value FROM json_each(:x)";
  const std::string page_sql =
      "SELECT r.id, r.run_at, r.attempt, j.kind, j.payload, j.max_attempts, j.created_at, "
      "j.snoozes, j.snoozed_us, CASE WHEN j.on_parent_failure IS NULL THEN 0 ELSE 1 END "
      "FROM ready r JOIN jobs j ON j.id = r.id WHERE r.queue = :q AND r.priority = :p AND "
      "r.run_at <= :n AND (r.run_at, r.id) > (:ra, :ri) AND j.kind NOT IN (" + kind_list +
      ") ORDER BY r.run_at, r.id LIMIT :l" + (postgres ? " FOR UPDATE OF r SKIP LOCKED" : "");
  std::string queue = next.queue, kind, payload, excluded;
  long long now = to_us(next.now), level = 0, after_run_at = 0, after_id = 0, page_size = 0;
  long long id = 0, run_at = 0, created = 0, snoozed = 0;
  int attempt = 0, max_attempts = 0, snoozes = 0, parents = 0;
  soci::statement page =
      (s.prepare << page_sql, into(id), into(run_at), into(attempt), into(kind), into(payload),
       into(max_attempts), into(created), into(snoozes), into(snoozed), into(parents),
       use(queue, "q"), use(level, "p"), use(now, "n"), use(after_run_at, "ra"),
       use(after_id, "ri"), use(excluded, "x"), use(page_size, "l"));

  long long scanned = 0;
  long long prev = std::numeric_limits<long long>::min();
  for (;;) {  // the queue's priority levels, highest first
    soci::indicator ind = soci::i_null;
    s << "SELECT MIN(priority) FROM ready WHERE queue = :q AND priority > CAST(:p AS BIGINT)", into(level, ind),
        use(queue, "q"), use(prev, "p");
    if (ind != soci::i_ok) break;
    prev = level;
    after_run_at = std::numeric_limits<long long>::min();
    after_id = std::numeric_limits<long long>::min();
    for (;;) {  // pages of the level
      const auto want = static_cast<long long>(next.limit) - static_cast<long long>(out.size());
      if (want <= 0 || ledger.queue_full(next.queue) || scanned >= scan_budget) break;
      excluded = kinds_json(ledger.full_kinds(next.queue));
      page_size = std::max<long long>(want * 2, 64);
      page.execute(false);
      long long read = 0;
      while (page.fetch()) {
        ++read;
        after_run_at = run_at;
        after_id = id;
        if (static_cast<int>(out.size()) >= next.limit) continue;
        if (!ledger.admit(kind, next.queue, payload)) {
          passed_over = true;
          continue;
        }
        jobs::claimed_job c;
        c.id = id;
        c.run_at = from_us(run_at);
        c.attempt = attempt + 1;
        c.kind = kind;
        c.payload = payload;
        c.max_attempts = max_attempts;
        c.created_at = from_us(created);
        c.snoozes = snoozes;
        c.snoozed_for = jobs::duration(snoozed);
        c.has_parents = parents != 0;
        c.priority = static_cast<int>(level);
        c.queue = next.queue;
        out.push_back(std::move(c));
      }
      scanned += read;
      if (read < page_size) break;  // the level's due jobs are all read
    }
    if (static_cast<int>(out.size()) >= next.limit || scanned >= scan_budget) break;
  }
  report();
  if (out.empty()) return out;

  const long long until = to_us(next.lease_until);
  const long long count = static_cast<long long>(out.size());
  long long lease = 0;
  std::string worker = next.worker;
  if (postgres)
    s << "INSERT INTO leases (worker, lease_until) VALUES (:w, :u) RETURNING id", into(lease),
        use(worker, "w"), use(until, "u");
  else
    s << "INSERT INTO leases (worker, lease_until, remaining) VALUES (:w, :u, :c) RETURNING id",
        into(lease), use(worker, "w"), use(until, "u"), use(count, "c");
  std::vector<job_id> ids;
  for (auto& c : out) {
    ids.push_back(c.id);
    c.lease = lease;
  }
  const auto ids_json = id_array(ids);
  const std::string in = " WHERE id IN (" + std::string(dialect_.id_list) + ")";
  s << "INSERT INTO running (id, queue, priority, attempt, lease_id, attempted_at, due_at) "
       "SELECT id, queue, priority, attempt + 1, :l, :n, run_at FROM ready" + in,
      use(lease, "l"), use(now, "n"), use(ids_json, "ids");
  s << "DELETE FROM ready" + in, use(ids_json, "ids");
  count_deltas counts;
  counts.move(next.queue, waiting_state, "running", count);
  add_counts(s, dialect_, counts);
  return out;
}

std::vector<limit_use> sql_store::limit_usage(std::span<const jobs::concurrency_limit> limits,
                                              time_point now) {
  if (limits.empty()) return {};
  return call("read limit use", [&](soci::session& s) {
    std::vector<limit_use> out;
    jobs::limit_ledger ledger(limits);
    const long long now_us = to_us(now), cap = limit_waiting_cap + 1;
    for (std::size_t i = 0; i < limits.size(); ++i) {
      const auto& l = limits[i];
      limit_use u;
      u.limit = l;
      read_running(s, l, i, ledger, &u);
      // The due jobs it counts, up to the cap: read through the ready key's due head.
      std::string k1 = l.kind, k2 = l.kind, q1 = l.queue, q2 = l.queue;
      long long n = 0;
      s << "SELECT COUNT(*) FROM (SELECT 1 FROM ready r JOIN jobs j ON j.id = r.id WHERE "
           "r.run_at <= :n AND (CAST(:k1 AS TEXT) = '' OR j.kind = :k2) AND (CAST(:q1 AS TEXT) = '' "
           "OR r.queue = :q2) "
           "LIMIT :c) t",
          into(n), use(now_us, "n"), use(k1, "k1"), use(k2, "k2"), use(q1, "q1"), use(q2, "q2"),
          use(cap, "c");
      u.waiting_capped = n > limit_waiting_cap;
      u.waiting = std::min<std::int64_t>(n, limit_waiting_cap);
      out.push_back(std::move(u));
    }
    return out;
  });
}

}  // namespace spool::store
