#include "tests/sim/oracle.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

#include <fmt/format.h>

namespace spool::sim {
namespace {

using to = jobs::transition::to;
using type = jobs::outcome::type;

std::string_view name(type t) {
  switch (t) {
    case type::succeeded: return "succeeded";
    case type::failed: return "failed";
    case type::failed_permanently: return "failed permanently";
    case type::snoozed: return "snoozed";
    case type::cancelled: return "cancelled";
    case type::interrupted: return "interrupted";
  }
  return "?";
}

std::string ids(const std::vector<jobs::job_id>& v) {
  std::string out;
  for (auto id : v) out += (out.empty() ? "" : ",") + std::to_string(id);
  return "[" + out + "]";
}

}  // namespace

void oracle::fail(const std::string& what) const { throw violation(what); }

void oracle::fail(jobs::job_id id, const std::string& what) const {
  std::string msg = fmt::format("job {}: {}", id, what);
  if (auto it = jobs_.find(id); it != jobs_.end()) {
    msg += "\n    its history:";
    for (const auto& h : it->second.history) msg += "\n      " + h;
  }
  throw violation(msg);
}

void oracle::record(jobs::job_id id, const std::string& what) {
  jobs_[id].history.push_back(fmt::format("t={:.3f}s {}", w_.log.seconds(w_.now()), what));
}

jobs::state oracle::expected_state(const model_job& j, time_point now) const {
  switch (j.where) {
    case place::pending: return jobs::state::pending;
    case place::ready: return jobs::ready_state(j.run_at <= now, j.attempt);
    case place::running: return jobs::state::running;
    case place::completed: return jobs::state::completed;
    case place::cancelled: return jobs::state::cancelled;
    case place::dead: return jobs::state::dead;
  }
  return jobs::state::available;
}

std::size_t oracle::acked() const {
  return std::count_if(jobs_.begin(), jobs_.end(), [](const auto& j) { return j.second.acked; });
}

std::vector<jobs::job_id> oracle::inserted_ids() const {
  std::vector<jobs::job_id> out;
  for (const auto& [id, _] : jobs_) out.push_back(id);
  return out;
}

bool oracle::all_final() const {
  return std::all_of(jobs_.begin(), jobs_.end(), [](const auto& j) { return final(j.second.where); });
}

void oracle::require_final() const {
  for (const auto& [id, j] : jobs_) {
    if (final(j.where)) continue;
    if (j.where == place::pending && parents_ended(j))
      fail(id, "left pending forever: its parents have all ended");
    fail(id, fmt::format("{}never finished, though the run turned calm long ago",
                         j.acked ? "acknowledged, " : ""));
  }
}

std::string oracle::parent_note(jobs::job_id parent) const {
  return fmt::format("dependency {} ended {}", parent,
                     jobs_.at(parent).where == place::dead ? "dead" : "cancelled");
}

std::optional<jobs::job_id> oracle::failed_parent(const model_job& j) const {
  for (auto p : j.parents)
    if (const auto where = jobs_.at(p).where; where == place::dead || where == place::cancelled)
      return p;
  return std::nullopt;
}

bool oracle::parents_ended(const model_job& j) const {
  return std::all_of(j.parents.begin(), j.parents.end(),
                     [&](jobs::job_id p) { return final(jobs_.at(p).where); });
}

void oracle::settled_pending(time_point now, std::int64_t settled) {
  // On SQLite a dependant is settled in the transaction that ends its last parent or inserts it:
  // the leader's repair must never find one.
  if (settled != 0)
    fail(fmt::format("settle_pending at t={:.3f}s settled {} jobs: their parents' transactions "
                     "left them pending",
                     w_.log.seconds(now), settled));
  w_.count("leader's settles of pending jobs (none found)");
}

bool oracle::names_failed_parent(const model_job& m, const std::string& note) const {
  // A dependant with two failed parents may name either: the one the store met first.
  if (m.where != place::cancelled || m.ran) return false;
  return std::any_of(m.parents.begin(), m.parents.end(), [&](jobs::job_id p) {
    return final(jobs_.at(p).where) && jobs_.at(p).where != place::completed && note == parent_note(p);
  });
}

void oracle::settle(time_point at) {
  // Until nothing changes: a cancelled dependant is itself a failed parent of its dependants.
  for (bool changed = true; changed;) {
    changed = false;
    for (auto& [id, j] : jobs_) {
      if (j.where != place::pending) continue;
      if (const auto failed = failed_parent(j); failed && !j.run_anyway) {
        j.where = place::cancelled;
        j.note = parent_note(*failed);
        record(id, "cancelled: " + j.note);
        w_.count("dependants cancelled by a failed parent");
      } else if (parents_ended(j)) {
        j.where = place::ready;
        j.run_at = at;
        record(id, fmt::format("released: its parents ended; due t={:.3f}s", w_.log.seconds(at)));
        w_.count(failed ? "dependants released after a failed parent (on_parent_failure run)"
                        : "dependants released");
      } else {
        continue;
      }
      changed = true;
    }
  }
}

void oracle::inserted(std::span<const jobs::new_job> batch,
                      const std::vector<store::insert_result>& result, time_point now) {
  touched_ = true;
  if (result.size() != batch.size())
    fail(fmt::format("insert of {} jobs returned {} results", batch.size(), result.size()));
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& r = result[i];
    const auto& key = batch[i].unique_key;
    const auto held = key ? holder(*key) : std::nullopt;
    if (r.duplicate) {
      if (!key) fail(r.id, "an insert without a unique key was called a duplicate");
      if (held != r.id)
        fail(r.id, fmt::format("called the holder of key {}, which {}", *key,
                               held ? "job " + std::to_string(*held) + " holds" : "nobody holds"));
      record(r.id, "holds " + *key + ": a new job with it was not inserted");
      w_.count("enqueues that met a held key");
      continue;
    }
    if (held)
      fail(r.id, fmt::format("inserted with key {} while job {} holds it", *key, *held));
    if (jobs_.count(r.id)) fail(r.id, "insert returned an id that is already in use");
    model_job j;
    j.unique_key = key;
    j.kind = batch[i].kind;
    j.queue = batch[i].queue;
    j.priority = batch[i].priority;
    j.max_attempts = batch[i].max_attempts;
    j.run_at = batch[i].run_at.value_or(now);
    // Its parents: ids of jobs inserted earlier, and positions of earlier jobs of this batch.
    std::set<jobs::job_id> parents(batch[i].depends_on.begin(), batch[i].depends_on.end());
    for (auto k : batch[i].needs) parents.insert(result.at(k).id);
    for (auto p : parents)
      if (!jobs_.count(p)) fail(r.id, fmt::format("inserted depending on job {}, never inserted", p));
    j.parents.assign(parents.begin(), parents.end());
    j.run_anyway = batch[i].on_parent_failure == jobs::parent_failure::run;
    if (!j.parents.empty()) j.where = place::pending;
    jobs_.emplace(r.id, std::move(j));
    const auto& m = jobs_[r.id];
    const auto when = parents.empty() ? fmt::format("due t={:.3f}s", w_.log.seconds(m.run_at))
                                      : fmt::format("pending on {} ({} if one fails)", ids(m.parents),
                                                    m.run_anyway ? "runs" : "cancelled");
    record(r.id, fmt::format("inserted: {} priority {} max_attempts {} {}", batch[i].kind,
                             batch[i].priority, batch[i].max_attempts, when));
    if (!parents.empty()) w_.count("dependants inserted");
  }
  // In the insert's transaction, after its rows: dependants whose parents ended already settle.
  settle(now);
  w_.count("jobs inserted", static_cast<std::int64_t>(batch.size()));
}

std::optional<jobs::job_id> oracle::holder(const std::string& key) const {
  for (const auto& [id, j] : jobs_)
    if (j.unique_key == key && !final(j.where)) return id;  // pending jobs wait in `ready` too
  return std::nullopt;
}

void oracle::acknowledged(const std::vector<store::insert_result>& result) {
  for (const auto& r : result) {
    auto it = jobs_.find(r.id);
    if (it == jobs_.end()) fail(r.id, "acknowledged but never inserted");
    it->second.acked = true;
    record(r.id, "acknowledged to the client");
  }
  w_.count("jobs acknowledged", static_cast<std::int64_t>(result.size()));
}

void oracle::claimed(const std::string& queue, int limit, const std::string& worker, time_point now,
                     time_point until, const std::vector<jobs::claimed_job>& result) {
  // A claim takes the head of the queue's due jobs, by (priority, run_at, id), up to the limit.
  std::vector<std::tuple<int, time_point, jobs::job_id>> due;
  for (const auto& [id, j] : jobs_)
    if (j.where == place::ready && j.queue == queue && j.run_at <= now)
      due.emplace_back(j.priority, j.run_at, id);
  std::sort(due.begin(), due.end());
  std::vector<jobs::job_id> want, got;
  for (std::size_t i = 0; i < due.size() && i < static_cast<std::size_t>(limit); ++i)
    want.push_back(std::get<2>(due[i]));
  for (const auto& c : result) got.push_back(c.id);
  if (got != want)
    fail(fmt::format("claim by {} (limit {}) took {}; the head of the due jobs is {}", worker,
                     limit, ids(got), ids(want)));
  if (result.empty()) return;  // the model did not change: nothing new to compare
  touched_ = true;
  const auto lease = result.front().lease;
  if (lease <= last_lease_)
    fail(
        fmt::format("claim by {} got lease {}, not above the last one ({}): leases must never be "
                    "reused, they fence stale workers",
                    worker, lease, last_lease_));
  last_lease_ = lease;
  leases_[lease] = {worker, until, static_cast<int>(result.size())};
  for (const auto& c : result) {
    auto& j = jobs_.at(c.id);
    if (c.lease != lease) fail(c.id, "one claim handed out two leases");
    if (c.attempt != j.attempt + 1)
      fail(c.id, fmt::format("claimed as attempt {} after {} attempts used", c.attempt, j.attempt));
    if (c.kind != j.kind || c.max_attempts != j.max_attempts)
      fail(c.id, "claimed with another kind or max_attempts than it was inserted with");
    // Checked against the parents' places, not against the model's pending flag.
    for (auto p : j.parents) {
      const auto where = jobs_.at(p).where;
      if (where != place::completed && !(j.run_anyway && final(where)))
        fail(c.id, fmt::format("claimed while its parent {} {}", p,
                               final(where) ? "ended without completing"
                                            : "has not ended"));
    }
    j.ran = true;
    j.where = place::running;
    j.attempt = c.attempt;
    j.lease = lease;
    record(c.id, fmt::format("claimed by {}: attempt {} lease {}", worker, c.attempt, lease));
  }
  w_.count("jobs claimed", static_cast<std::int64_t>(result.size()));
}

void oracle::apply(const jobs::completion& c, model_job& j) {
  const auto& t = c.change;
  const int under_way = j.attempt;
  auto& lease = leases_.at(j.lease);
  if (--lease.running == 0) leases_.erase(j.lease);
  j.lease = 0;
  j.attempt = t.attempt;
  j.note.clear();
  switch (t.next) {
    case to::completed: j.where = place::completed; break;
    case to::cancelled:
      j.where = place::cancelled;
      j.note = t.note;
      break;
    case to::dead:
      j.where = place::dead;
      j.note = t.note;
      break;
    case to::retry:
    case to::requeue:
      j.where = place::ready;
      j.run_at = t.run_at;
      break;
  }
  if (t.error) j.errors.push_back(*t.error);
  // Attempts never go down: a requeue gives back the attempt under way, nothing else does.
  const int used_before = under_way - 1;
  const int used_after = t.next == to::requeue ? used_before : under_way;
  if (t.attempt != used_after)
    fail(c.id, fmt::format("a {} of attempt {} leaves {} attempts used, not {}", to_string(t.next),
                           under_way, t.attempt, used_after));
  std::string what =
      fmt::format("{} applied (lease {}): {} attempts used", to_string(t.next), c.lease, t.attempt);
  if (t.next == to::retry || t.next == to::requeue)
    what += fmt::format(", due t={:.3f}s", w_.log.seconds(t.run_at));
  if (t.error) what += ", error \"" + t.error->message + "\"";
  record(c.id, what);
  w_.count(fmt::format("transitions applied: {}", to_string(t.next)));
}

void oracle::completed(std::span<const jobs::completion> batch,
                       const std::vector<jobs::job_id>& stale) {
  touched_ = true;
  // Applied in order, each only while its job still runs under the completion's lease.
  std::set<jobs::job_id> want_stale;
  std::set<jobs::job_id> applied;
  std::set<jobs::job_id> in_batch;
  for (const auto& c : batch)
    if (!in_batch.insert(c.id).second) w_.count("completion batches holding one job twice");
  for (const auto& c : batch) {
    auto it = jobs_.find(c.id);
    if (it == jobs_.end()) fail(c.id, "a completion for a job never inserted");
    auto& j = it->second;
    if (j.where != place::running || j.lease != c.lease) {
      want_stale.insert(c.id);
      record(c.id, fmt::format("completion ({}) under lost lease {} must be rejected",
                               to_string(c.change.next), c.lease));
      w_.count("stale completions rejected");
      continue;
    }
    apply(c, j);
    applied.insert(c.id);
  }
  // In the same transaction, the jobs that ended settle their dependants, due at the time of the
  // batch's last completion (store::latest_at), stale ones included.
  if (!applied.empty()) settle(spool::store::latest_at(batch));
  const std::set<jobs::job_id> got(stale.begin(), stale.end());
  for (auto id : got)
    if (!want_stale.count(id))
      fail(id,
           "the store rejected a completion made under the lease the job runs under: a finished "
           "attempt would be lost");
  for (auto id : want_stale)
    if (!got.count(id) && !applied.count(id))
      fail(id,
           "the store applied a stale worker's completion (its lease was lost) or did not say "
           "that it rejected it");
}

void oracle::renewed(std::span<const jobs::lease_id> leases, time_point until) {
  // Not a reason for a comparison of its own: the next expired() is checked against these ends.
  for (auto l : leases)
    if (auto it = leases_.find(l); it != leases_.end()) it->second.until = until;
}

void oracle::listed_expired(time_point now, int limit,
                            const std::vector<store::expired_job>& result) {
  std::set<std::pair<jobs::job_id, jobs::lease_id>> want, got;
  for (const auto& [id, j] : jobs_)
    if (j.where == place::running && leases_.at(j.lease).until < now) want.insert({id, j.lease});
  for (const auto& e : result) {
    got.insert({e.id, e.lease});
    auto it = jobs_.find(e.id);
    if (it == jobs_.end() || it->second.attempt != e.attempt || it->second.kind != e.kind ||
        it->second.max_attempts != e.max_attempts)
      fail(e.id, "expired() reports it with another attempt, kind or max_attempts than it has");
  }
  const bool ok = want.size() <= static_cast<std::size_t>(limit)
                      ? got == want
                      : std::includes(want.begin(), want.end(), got.begin(), got.end());
  if (!ok)
    fail(fmt::format("expired() returned {} leased jobs, the model has {} with expired leases",
                     got.size(), want.size()));
}

void oracle::failed_unprompted(const std::string& op, const std::string& error) {
  fail("the real store failed without an injected fault: " + op + ": " + error);
}

void oracle::settled(const jobs::outcome& raw, runtime::cancel_reason why,
                     const jobs::outcome& result) {
  type want = raw.kind;
  if (raw.kind != type::succeeded && raw.kind != type::snoozed) switch (why) {
      case runtime::cancel_reason::shutdown: want = type::interrupted; break;
      case runtime::cancel_reason::operator_request: want = type::cancelled; break;
      case runtime::cancel_reason::timeout: want = type::failed; break;
      case runtime::cancel_reason::none: break;
    }
  if (result.kind != want)
    fail(fmt::format("settle() made a {} attempt cancelled for reason {} {}, not {}",
                     name(raw.kind), static_cast<int>(why), name(result.kind), name(want)));
}

void oracle::decided(jobs::job_id id, int attempt, int max_attempts,
                     const jobs::retry_policy& policy, const jobs::outcome& result, time_point now,
                     const jobs::transition& t) {
  const int limit = max_attempts > 0 ? max_attempts : policy.max_attempts;
  auto wrong = [&](const std::string& why) {
    fail(id, fmt::format("decide({}, attempt {} of {}) gave {} with {} attempts used: {}",
                         name(result.kind), attempt, limit, to_string(t.next), t.attempt, why));
  };
  if (t.at != now) wrong("the transition is not stamped with the time of the decision");
  switch (result.kind) {
    case type::succeeded:
      if (t.next != to::completed || t.attempt != attempt || t.error)
        wrong("a success completes the job and keeps its attempt");
      break;
    case type::cancelled:
      if (t.next != to::cancelled || t.attempt != attempt) wrong("a cancel is final");
      break;
    case type::snoozed:
      if (t.next != to::requeue || t.attempt != attempt - 1 || t.error ||
          t.run_at != now + result.snooze_for)
        wrong("a snooze gives the attempt back and waits the time asked for");
      break;
    case type::interrupted:
      if (t.next != to::requeue || t.attempt != attempt - 1 || t.error || t.run_at != now)
        wrong("a shutdown consumes no attempt, records no error and leaves the job due at once");
      break;
    case type::failed:
    case type::failed_permanently: {
      if (!t.error || t.error->attempt != attempt || t.error->message != result.message ||
          t.error->at != now || t.attempt != attempt)
        wrong("a failure uses up its attempt and records its error");
      const bool permanent = result.kind == type::failed_permanently;
      if (permanent || attempt >= limit) {
        if (t.next != to::dead || t.note != result.message)
          wrong(
              "the dead-letter queue must take a job whose error is permanent or whose attempts "
              "are exhausted");
        break;
      }
      if (t.next != to::retry)
        wrong(
            "the dead-letter queue must take only jobs whose error is permanent or whose "
            "attempts are exhausted");
      // The policy's definition, computed here anew: base * 2^(attempt-1), capped, times a
      // jitter factor in [1 - jitter, 1 + jitter], capped again.
      const double cap = static_cast<double>(policy.cap.count());
      const double nominal =
          std::min(static_cast<double>(policy.base.count()) * std::pow(2.0, attempt - 1), cap);
      const double lo = std::floor(nominal * (1 - policy.jitter)) - 1;
      const double hi = std::ceil(std::min(nominal * (1 + policy.jitter), cap)) + 1;
      const double got = static_cast<double>((t.run_at - now).count());
      if (got < lo || got > hi)
        wrong(fmt::format("retry delay {:.0f} us is outside the policy's [{:.0f}, {:.0f}] us", got,
                          lo, hi));
      w_.count("retry delays checked against the policy");
      break;
    }
  }
}

void oracle::check(bool deep) {
  if (!touched_ && !deep) return;
  touched_ = false;
  w_.count("comparisons of the whole store with the model");
  const auto now = w_.now();
  store::list_filter all;
  all.limit = 1 << 30;
  const auto listed = reader_.list(all, now);
  std::set<jobs::job_id> seen;
  for (const auto& j : listed) {
    if (!seen.insert(j.id).second) fail(j.id, "listed twice");
    auto it = jobs_.find(j.id);
    if (it == jobs_.end()) fail(j.id, "in the store but never inserted");
    auto& m = it->second;
    const auto want = expected_state(m, now);
    if (j.st != want)
      fail(j.id, fmt::format("the store says {}, the model {}", to_string(j.st), to_string(want)));
    if (j.attempt != m.attempt)
      fail(j.id, fmt::format("the store says attempt {}, the model {}", j.attempt, m.attempt));
    const int used = j.st == jobs::state::running ? j.attempt - 1 : j.attempt;
    if (used < m.used_seen)
      fail(j.id, fmt::format("attempts used went down from {} to {}", m.used_seen, used));
    m.used_seen = used;
    switch (m.where) {
      case place::pending:
        if (j.run_at) fail(j.id, "pending, yet the store shows a run_at");
        break;
      case place::ready:
        if (!j.run_at || *j.run_at != m.run_at) fail(j.id, "the store has another run_at");
        break;
      case place::running: {
        const auto& l = leases_.at(m.lease);
        if (!j.lease_until || *j.lease_until != l.until || j.worker != l.worker)
          fail(j.id, "the store has another lease holder or lease end");
        break;
      }
      case place::dead:
      case place::cancelled:
        if (j.note != m.note && !names_failed_parent(m, j.note))
          fail(j.id, "the store has another note: \"" + j.note + "\"");
        break;
      case place::completed: break;
    }
  }
  if (seen.size() != jobs_.size())
    for (const auto& [id, m] : jobs_)
      if (!seen.count(id))
        fail(id, m.acked ? "an acknowledged job is lost: the store no longer has it"
                         : "an inserted job is lost: the store no longer has it");

  // Every job is in exactly one state: the store's counts per state (one per table row) match.
  std::map<std::string, std::int64_t> want;
  for (const auto& [id, m] : jobs_) want[std::string(to_string(expected_state(m, now)))]++;
  for (const auto& [state, n] : reader_.count(now).states)
    if (n != want[state])
      fail(fmt::format(
          "the store counts {} {} jobs, the model {}: a job is in two states or in none", n, state,
          want[state]));

  // No dependant waits for parents that all ended: the transaction that ended the last one
  // settled it (on SQLite; settle_pending would be the repair on PostgreSQL).
  for (const auto& [id, m] : jobs_)
    if (m.where == place::pending && parents_ended(m))
      fail(id, "left pending, though its parents have all ended");

  // Error rows are only ever appended, so a wrong one stays wrong: comparing them at the end is
  // enough, and spares a get() per failed attempt.
  if (!deep) return;
  // A dependant whose parent failed (on_parent_failure cancel) ended cancelled, never having run.
  for (const auto& [id, m] : jobs_)
    if (!m.run_anyway && failed_parent(m) && (m.where != place::cancelled || m.ran))
      fail(id, "a parent ended dead or cancelled, yet this dependant was not cancelled before it ran");
  for (const auto& [id, _] : jobs_) {
    const auto j = reader_.get(id, now);
    const auto& want_errors = jobs_.at(id).errors;
    bool same = j && j->errors.size() == want_errors.size();
    for (std::size_t i = 0; same && i < want_errors.size(); ++i)
      same = j->errors[i].attempt == want_errors[i].attempt &&
             j->errors[i].at == want_errors[i].at && j->errors[i].message == want_errors[i].message;
    if (!same) fail(id, "the store's error history differs from the failed attempts applied");
  }
}

}  // namespace spool::sim
