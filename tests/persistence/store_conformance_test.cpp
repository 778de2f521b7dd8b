// One suite for every store: run by ctest once per backend (SPOOL_STORE_BACKEND), so each store
// operation and state transition is shown to behave the same on SQLite and PostgreSQL.
#define BOOST_TEST_MODULE store_conformance
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "persistence/store.hpp"
#include "tests/support/count_oracle.hpp"
#include "tests/support/printers.hpp"
#include "tests/support/scratch_db.hpp"

using namespace spool;
using namespace std::chrono_literals;
using jobs::transition;

namespace {

store::prune_request prune_req(jobs::state st, jobs::time_point before,
                               std::optional<std::string> queue = std::nullopt,
                               std::vector<std::string> except = {}, int limit = 1000) {
  return {.state = st, .before = before, .queue = std::move(queue), .except = std::move(except),
          .limit = limit};
}

struct fixture {
  test::scratch_db scratch;
  std::unique_ptr<store::store> db = store::open(scratch.url());
  jobs::time_point t0 = jobs::now();

  fixture() { db->migrate(); }

  jobs::job_id add(jobs::new_job j, jobs::time_point at) {
    auto r = db->insert(std::span(&j, 1), at);
    BOOST_REQUIRE_EQUAL(r.size(), 1u);
    return r.front().id;
  }
  jobs::job_id add(std::string kind, int priority = 0, std::optional<jobs::time_point> run_at = {}) {
    jobs::new_job j;
    j.kind = std::move(kind);
    j.priority = priority;
    j.run_at = run_at;
    return add(j, t0);
  }
  std::vector<jobs::claimed_job> claim(int n, jobs::time_point at, std::string q = "default") {
    return db->claim(q, n, "w1", at, at + 30s);
  }
  jobs::job get(jobs::job_id id) {
    auto j = db->get(id, t0 + 1h);
    BOOST_REQUIRE(j);
    return *j;
  }
  // job_counts agrees with a scan of the state tables.
  void counts_agree(const std::string& after) {
    const auto stored = test::stored_counts(scratch.url());
    const auto scanned = test::scanned_counts(scratch.url());
    BOOST_TEST((stored == scanned), after << ": job_counts says " << test::describe(stored)
                                          << ", the tables hold " << test::describe(scanned));
  }
  long long rows(const std::string& sql) {
    auto s = test::raw_session(scratch.url());
    long long n = 0;
    *s << sql, soci::into(n);
    return n;
  }
  static jobs::completion done(const jobs::claimed_job& c, transition::to to, jobs::time_point at,
                               jobs::time_point run_at = {}) {
    transition t;
    t.next = to;
    t.at = at;
    t.run_at = run_at;
    t.attempt = to == transition::to::requeue ? c.attempt - 1 : c.attempt;
    if (to == transition::to::retry || to == transition::to::dead)
      t.error = jobs::error_entry{c.attempt, at, "boom " + std::to_string(c.attempt)};
    if (to == transition::to::dead) t.note = "boom";
    return {c.id, c.lease, t};
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(insert_then_claim_returns_the_full_job, fixture) {
  jobs::new_job j;
  j.kind = "email";
  j.queue = "mail";
  j.payload = R"({"to":"a@b.c"})";
  j.priority = 3;
  j.max_attempts = 7;
  const auto id = add(j, t0);
  auto got = claim(10, t0 + 1ms, "mail");
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_TEST(got[0].id == id);
  BOOST_TEST(got[0].kind == "email");
  BOOST_TEST(got[0].queue == "mail");
  BOOST_TEST(got[0].payload == R"({"to":"a@b.c"})");
  BOOST_TEST(got[0].priority == 3);
  BOOST_TEST(got[0].attempt == 1);
  BOOST_TEST(got[0].max_attempts == 7);
  BOOST_TEST(got[0].run_at.time_since_epoch().count() == t0.time_since_epoch().count());
  BOOST_TEST(got[0].created_at.time_since_epoch().count() == t0.time_since_epoch().count());
  BOOST_TEST(got[0].lease > 0);
  BOOST_TEST(get(id).st == jobs::state::running);
  BOOST_TEST(claim(10, t0 + 2ms, "mail").empty());
}

// The dashboard's attempt timeline: each failed attempt says when it started and on which node.
BOOST_FIXTURE_TEST_CASE(a_failed_attempt_records_its_start_and_node, fixture) {
  const auto id = add("k");
  auto first = db->claim("default", 1, "node-a", t0, t0 + 30s);
  BOOST_REQUIRE_EQUAL(first.size(), 1u);
  std::vector<jobs::completion> retry{done(first[0], transition::to::retry, t0 + 1s, t0 + 2s)};
  BOOST_TEST(db->complete(retry).empty());
  auto second = db->claim("default", 1, "node-b", t0 + 3s, t0 + 33s);
  BOOST_REQUIRE_EQUAL(second.size(), 1u);
  std::vector<jobs::completion> dead{done(second[0], transition::to::dead, t0 + 4s)};
  BOOST_TEST(db->complete(dead).empty());

  const auto errors = get(id).errors;
  BOOST_REQUIRE_EQUAL(errors.size(), 2u);
  BOOST_TEST(errors[0].node == "node-a");
  BOOST_TEST(errors[1].node == "node-b");
  BOOST_REQUIRE(errors[0].started_at);
  BOOST_REQUIRE(errors[1].started_at);
  BOOST_TEST(errors[0].started_at->time_since_epoch().count() == t0.time_since_epoch().count());
  BOOST_TEST(errors[1].started_at->time_since_epoch().count() == (t0 + 3s).time_since_epoch().count());
  BOOST_TEST(errors[1].at.time_since_epoch().count() == (t0 + 4s).time_since_epoch().count());
  BOOST_TEST(get(id).worker == "", "a dead job names no node of its own: its last error does");

  // A finished job names the node of its last attempt, completed or cancelled, plain or not.
  const auto plain = add("k"), with_result = add("k"), cancelled = add("k");
  auto third = db->claim("default", 3, "node-c", t0 + 5s, t0 + 35s);
  BOOST_REQUIRE_EQUAL(third.size(), 3u);
  std::map<jobs::job_id, jobs::claimed_job> by_id;
  for (auto& c : third) by_id[c.id] = c;
  std::vector<jobs::completion> ends{done(by_id[plain], transition::to::completed, t0 + 6s),
                                     done(by_id[with_result], transition::to::completed, t0 + 6s),
                                     done(by_id[cancelled], transition::to::cancelled, t0 + 6s)};
  ends[1].change.result = "1";
  BOOST_TEST(db->complete(ends).empty());
  for (auto j : {plain, with_result, cancelled}) BOOST_TEST(get(j).worker == "node-c", "job " << j);
}

// Progress reports: stored with the running attempt, only under its lease, replaced by newer
// ones, shown by get and list, and gone once the attempt ends.
BOOST_FIXTURE_TEST_CASE(progress_is_stored_under_the_lease_and_goes_with_the_attempt, fixture) {
  const auto a = add("k"), b = add("k");
  auto got = claim(2, t0);
  BOOST_REQUIRE_EQUAL(got.size(), 2u);
  std::map<jobs::job_id, jobs::claimed_job> by_id;
  for (auto& c : got) by_id[c.id] = c;
  BOOST_TEST(!get(a).progress, "no report yet");

  std::vector<jobs::progress_update> reports{
      {a, by_id[a].lease, {0.25, "chunk 1 of 4 \xc3\xa9", t0 + 1s}},
      {b, by_id[b].lease + 1000, {0.5, "a stale attempt's report", t0 + 1s}}};
  db->record_progress(reports);
  auto shown = get(a).progress;
  BOOST_REQUIRE(shown);
  BOOST_TEST(shown->fraction == 0.25);
  BOOST_TEST(shown->note == "chunk 1 of 4 \xc3\xa9");
  BOOST_TEST(shown->at.time_since_epoch().count() == (t0 + 1s).time_since_epoch().count());
  BOOST_TEST(!get(b).progress, "a report under another lease is dropped");

  std::vector<jobs::progress_update> newer{{a, by_id[a].lease, {1.0, "", t0 + 2s}}};
  db->record_progress(newer);
  BOOST_TEST(get(a).progress->fraction == 1.0);
  BOOST_TEST(get(a).progress->note == "");
  store::list_filter running;
  running.state = jobs::state::running;
  auto listed = db->list(running, t0 + 1h);
  BOOST_REQUIRE_EQUAL(listed.size(), 2u);
  for (auto& j : listed) BOOST_TEST(j.progress.has_value() == (j.id == a), "job " << j.id);

  std::vector<jobs::completion> ends{done(by_id[a], transition::to::completed, t0 + 3s),
                                     done(by_id[b], transition::to::retry, t0 + 3s, t0 + 4s)};
  BOOST_TEST(db->complete(ends).empty());
  BOOST_TEST(!get(a).progress, "cleared when the job ends");
  // A report that arrives after its attempt ended (the keeper's pass raced the completion)
  // changes nothing, not even the next attempt's row.
  auto again = claim(1, t0 + 5s);
  BOOST_REQUIRE_EQUAL(again.size(), 1u);
  db->record_progress(newer);
  std::vector<jobs::progress_update> late{{b, by_id[b].lease, {0.9, "late", t0 + 5s}}};
  db->record_progress(late);
  BOOST_TEST(!get(a).progress);
  BOOST_TEST(!get(b).progress, "the new attempt has reported nothing");
  counts_agree("after progress reports");
}

BOOST_FIXTURE_TEST_CASE(claim_order_is_priority_then_run_at_then_id, fixture) {
  const auto a = add("k", 5, t0 - 3s);
  const auto b = add("k", 1, t0 - 1s);
  const auto c = add("k", 1, t0 - 2s);
  const auto d = add("k", 1, t0 - 2s);
  const auto later = add("k", 0, t0 + 10s);  // not due yet
  std::vector<jobs::job_id> order;
  for (int i = 0; i < 5; ++i)
    for (auto& j : claim(1, t0)) order.push_back(j.id);
  BOOST_TEST(order == (std::vector<jobs::job_id>{c, d, b, a}), boost::test_tools::per_element());
  auto batch = claim(10, t0 + 10s);
  BOOST_REQUIRE_EQUAL(batch.size(), 1u);
  BOOST_TEST(batch[0].id == later);
}

BOOST_FIXTURE_TEST_CASE(a_batch_claim_shares_one_lease_and_respects_the_limit, fixture) {
  for (int i = 0; i < 25; ++i) add("k");
  auto first = claim(10, t0);
  BOOST_REQUIRE_EQUAL(first.size(), 10u);
  for (auto& j : first) BOOST_TEST(j.lease == first[0].lease);
  auto second = claim(100, t0);
  BOOST_TEST(second.size() == 15u);
  BOOST_TEST(second[0].lease != first[0].lease);
  BOOST_TEST(claim(100, t0).empty());
}

BOOST_FIXTURE_TEST_CASE(completion_moves_jobs_to_their_next_state, fixture) {
  for (int i = 0; i < 4; ++i) add("k");
  auto got = claim(4, t0);
  BOOST_REQUIRE_EQUAL(got.size(), 4u);
  const auto at = t0 + 1s;
  std::vector<jobs::completion> batch{
      done(got[0], transition::to::completed, at),
      done(got[1], transition::to::retry, at, at + 5s),
      done(got[2], transition::to::dead, at),
      done(got[3], transition::to::requeue, at, at),
  };
  batch[3].change.attempt = 0;
  BOOST_TEST(db->complete(batch).empty());

  auto completed = get(got[0].id);
  BOOST_TEST(completed.st == jobs::state::completed);
  BOOST_TEST(completed.attempt == 1);
  BOOST_REQUIRE(completed.finalized_at);
  BOOST_TEST(completed.finalized_at->time_since_epoch().count() == at.time_since_epoch().count());

  auto retrying = *db->get(got[1].id, at);
  BOOST_TEST(retrying.st == jobs::state::retrying);
  BOOST_TEST(retrying.attempt == 1);
  BOOST_REQUIRE_EQUAL(retrying.errors.size(), 1u);
  BOOST_TEST(retrying.errors[0].message == "boom 1");
  BOOST_TEST(db->get(got[1].id, at + 5s)->st == jobs::state::available);

  auto dead = get(got[2].id);
  BOOST_TEST(dead.st == jobs::state::dead);
  BOOST_TEST(dead.errors.size() == 1u);

  auto requeued = get(got[3].id);
  BOOST_TEST(requeued.st == jobs::state::available);
  BOOST_TEST(requeued.attempt == 0);
  BOOST_TEST(requeued.errors.empty());

  // The retry comes back with its attempt counted, the requeued one with its attempt given back.
  auto again = claim(10, at + 5s);
  BOOST_REQUIRE_EQUAL(again.size(), 2u);
  for (auto& j : again) BOOST_TEST(j.attempt == (j.id == got[1].id ? 2 : 1));
}

BOOST_FIXTURE_TEST_CASE(a_stale_lease_cannot_complete_a_job, fixture) {
  add("k");
  auto first = claim(1, t0);
  BOOST_REQUIRE_EQUAL(first.size(), 1u);
  // The lease expires; a rescuer hands the job back, another worker claims it.
  auto expired = db->expired(t0 + 31s, 100);
  BOOST_REQUIRE_EQUAL(expired.size(), 1u);
  BOOST_TEST(expired[0].id == first[0].id);
  BOOST_TEST(expired[0].attempt == 1);
  std::vector<jobs::completion> rescue{done(first[0], transition::to::retry, t0 + 31s, t0 + 31s)};
  BOOST_TEST(db->complete(rescue).empty());
  auto second = db->claim("default", 1, "w2", t0 + 32s, t0 + 62s);
  BOOST_REQUIRE_EQUAL(second.size(), 1u);
  BOOST_TEST(second[0].attempt == 2);

  // The first worker's late completion is rejected, the current holder's applies.
  std::vector<jobs::completion> late{done(first[0], transition::to::completed, t0 + 33s)};
  auto rejected = db->complete(late);
  BOOST_REQUIRE_EQUAL(rejected.size(), 1u);
  BOOST_TEST(rejected[0] == first[0].id);
  BOOST_TEST(get(first[0].id).st == jobs::state::running);
  std::vector<jobs::completion> current{done(second[0], transition::to::completed, t0 + 34s)};
  BOOST_TEST(db->complete(current).empty());
  BOOST_TEST(get(first[0].id).st == jobs::state::completed);
}

BOOST_FIXTURE_TEST_CASE(a_stale_completion_does_not_end_the_lease_its_job_runs_under_now, fixture) {
  const auto x = add("k");
  auto first = claim(1, t0);
  BOOST_REQUIRE_EQUAL(first.size(), 1u);
  std::vector<jobs::completion> rescue{done(first[0], transition::to::retry, t0 + 31s, t0 + 31s)};
  BOOST_TEST(db->complete(rescue).empty());
  const auto y = add("k");
  // Both under one new lease: x again (attempt 2) and y.
  auto second = db->claim("default", 2, "w1", t0 + 32s, t0 + 62s);
  BOOST_REQUIRE_EQUAL(second.size(), 2u);
  const auto& y_run = second[0].id == y ? second[0] : second[1];
  // x's first attempt ends late, in the same batch as y: it is stale, y applies, and the lease
  // stays, as x still runs under it.
  std::vector<jobs::completion> batch{done(first[0], transition::to::completed, t0 + 33s),
                                      done(y_run, transition::to::completed, t0 + 33s)};
  auto rejected = db->complete(batch);
  BOOST_REQUIRE_EQUAL(rejected.size(), 1u);
  BOOST_TEST(rejected[0] == x);
  auto lost = db->expired(t0 + 63s, 10);  // a worker that died with x is still found
  BOOST_REQUIRE_EQUAL(lost.size(), 1u);
  BOOST_TEST(lost[0].id == x);
}

BOOST_FIXTURE_TEST_CASE(renewed_leases_do_not_expire, fixture) {
  add("k");
  auto got = claim(1, t0);
  std::vector<jobs::lease_id> leases{got[0].lease};
  db->renew(leases, t0 + 90s);
  BOOST_TEST(db->expired(t0 + 60s, 10).empty());
  BOOST_TEST(db->expired(t0 + 91s, 10).size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(unique_key_is_held_until_the_job_finishes, fixture) {
  jobs::new_job j;
  j.kind = "profile";
  j.unique_key = "profile:42";
  auto first = db->insert(std::span(&j, 1), t0).front();
  auto dup = db->insert(std::span(&j, 1), t0).front();
  BOOST_TEST(!first.duplicate);
  BOOST_TEST(dup.duplicate);
  BOOST_TEST(dup.id == first.id);
  // Running, it still holds the key; once completed, the key is free for a new job
  // (tests/persistence/unique_keys_test.cpp has every transition).
  auto got = claim(1, t0);
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_TEST(db->insert(std::span(&j, 1), t0).front().duplicate);
  std::vector<jobs::completion> ok{done(got[0], transition::to::completed, t0)};
  db->complete(ok);
  auto next = db->insert(std::span(&j, 1), t0).front();
  BOOST_TEST(!next.duplicate);
  BOOST_TEST(next.id != first.id);
}

BOOST_FIXTURE_TEST_CASE(dead_letter_requeue_and_purge, fixture) {
  const auto id = add("k");
  auto got = claim(1, t0);
  std::vector<jobs::completion> kill{done(got[0], transition::to::dead, t0)};
  db->complete(kill);
  store::list_filter dead;
  dead.state = jobs::state::dead;
  BOOST_TEST(db->list(dead, t0).size() == 1u);
  store::dead_filter one;
  one.id = id;
  BOOST_TEST(db->requeue_dead(one, t0) == 1);
  BOOST_TEST(get(id).st == jobs::state::available);
  BOOST_TEST(get(id).attempt == 0);
  BOOST_TEST(get(id).errors.size() == 1u);  // history is kept
  got = claim(1, t0);
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_TEST(got[0].attempt == 1);
  kill = {done(got[0], transition::to::dead, t0)};
  db->complete(kill);
  store::dead_filter other_kind;
  other_kind.kind = "other";
  BOOST_TEST(db->purge_dead(other_kind) == 0);
  BOOST_TEST(db->purge_dead({}) == 1);
  BOOST_TEST(!db->get(id, t0));
  BOOST_TEST(db->requeue_dead(one, t0) == 0);
}

BOOST_FIXTURE_TEST_CASE(retry_now_makes_a_waiting_job_due, fixture) {
  const auto later = add("k", 0, t0 + 1h);
  const auto running = add("k");
  BOOST_REQUIRE_EQUAL(claim(10, t0).size(), 1u);
  BOOST_TEST(db->retry_now(later, t0) == store::retry_result::moved);
  BOOST_TEST(db->get(later, t0)->st == jobs::state::available);
  BOOST_TEST(db->retry_now(running, t0) == store::retry_result::not_waiting);
  BOOST_TEST(db->retry_now(4242, t0) == store::retry_result::not_found);
  BOOST_TEST(db->count(t0).oldest_available.count("default") == 1u);
}

BOOST_FIXTURE_TEST_CASE(cancel_of_waiting_and_running_jobs, fixture) {
  const auto waiting = add("k", 0, t0 + 1h);
  const auto running = add("k");
  claim(1, t0);
  BOOST_TEST(db->cancel(waiting, t0) == store::cancel_result::cancelled);
  BOOST_TEST(get(waiting).st == jobs::state::cancelled);
  BOOST_TEST(db->cancel(running, t0) == store::cancel_result::requested);
  BOOST_TEST(db->cancel_requests() == std::vector<jobs::job_id>{running});
  BOOST_TEST(db->cancel(waiting, t0) == store::cancel_result::already_final);
  BOOST_TEST(db->cancel(9999, t0) == store::cancel_result::not_found);
}

BOOST_FIXTURE_TEST_CASE(list_filters_paginate_and_count, fixture) {
  for (int i = 0; i < 5; ++i) add("a");
  for (int i = 0; i < 3; ++i) add("b", 0, t0 + 1h);
  store::list_filter f;
  f.limit = 3;
  auto page1 = db->list(f, t0);
  BOOST_REQUIRE_EQUAL(page1.size(), 3u);
  BOOST_TEST(page1[0].id > page1[2].id);
  f.before = page1.back().id;
  auto page2 = db->list(f, t0);
  BOOST_REQUIRE_EQUAL(page2.size(), 3u);
  BOOST_TEST(page2[0].id < page1.back().id);
  store::list_filter scheduled;
  scheduled.state = jobs::state::scheduled;
  BOOST_TEST(db->list(scheduled, t0).size() == 3u);
  store::list_filter kind_a;
  kind_a.kind = "a";
  BOOST_TEST(db->list(kind_a, t0).size() == 5u);
  auto counts = db->count(t0);
  BOOST_TEST(counts.states["available"] == 5);
  BOOST_TEST(counts.states["scheduled"] == 3);
  BOOST_TEST(counts.queues["default"]["available"] == 5);
  BOOST_TEST(db->next_due("default", t0).has_value());
}

// The operator's search (issue 21): created and finished time ranges, text in any error, unique
// key; a keyset page stays correct while the jobs it has shown move on.
BOOST_FIXTURE_TEST_CASE(list_searches_by_time_error_text_and_key, fixture) {
  jobs::new_job keyed;
  keyed.kind = "k";
  keyed.unique_key = "order-42";
  const auto early = add(keyed, t0);
  jobs::new_job later;
  later.kind = "k";
  const auto late = add(later, t0 + 10s);
  const auto other = add(later, t0 + 20s);
  auto got = claim(3, t0 + 30s);
  BOOST_REQUIRE_EQUAL(got.size(), 3u);
  auto by_id = [&](jobs::job_id id) {
    for (auto& c : got)
      if (c.id == id) return c;
    BOOST_FAIL("not claimed");
    return got.front();
  };
  auto c = done(by_id(early), transition::to::dead, t0 + 40s);
  c.change.error->message = "Connection REFUSED by 10.0.0.7";
  c.change.note = "gave up: 100%_done";
  std::vector<jobs::completion> batch{c, done(by_id(late), transition::to::completed, t0 + 50s),
                                      done(by_id(other), transition::to::retry, t0 + 60s, t0 + 1h)};
  BOOST_TEST(db->complete(batch).empty());
  auto ids = [&](store::list_filter f) {
    std::vector<jobs::job_id> out;
    for (auto& j : db->list(f, t0 + 70s)) out.push_back(j.id);
    return out;
  };
  using v = std::vector<jobs::job_id>;
  store::list_filter created;
  created.created_after = t0 + 5s;
  created.created_before = t0 + 20s;  // [after, before)
  BOOST_TEST(ids(created) == (v{late}), boost::test_tools::per_element());
  store::list_filter finished;
  finished.finished_after = t0 + 35s;
  BOOST_TEST(ids(finished) == (v{late, early}), boost::test_tools::per_element());  // not the retrying one
  finished.finished_before = t0 + 45s;
  BOOST_TEST(ids(finished) == (v{early}), boost::test_tools::per_element());
  store::list_filter text;
  text.error_contains = "connection refused";  // any case
  BOOST_TEST(ids(text) == (v{early}), boost::test_tools::per_element());
  text.error_contains = "boom 1";  // the retrying job's error history
  BOOST_TEST(ids(text) == (v{other}), boost::test_tools::per_element());
  text.error_contains = "100%_";  // LIKE's wildcards are the text itself
  BOOST_TEST(ids(text) == (v{early}), boost::test_tools::per_element());
  text.error_contains = "100%x";
  BOOST_TEST(ids(text).empty());
  store::list_filter key;
  key.unique_key = "order-42";
  BOOST_TEST(ids(key) == (v{early}), boost::test_tools::per_element());
  // Filters combine.
  store::list_filter both;
  both.state = jobs::state::completed;
  both.created_after = t0;
  BOOST_TEST(ids(both) == (v{late}), boost::test_tools::per_element());

  // Keyset pages: a job shown on page one that moves meanwhile neither repeats nor hides another.
  store::list_filter page;
  page.kind = "k";
  page.limit = 1;
  auto first = db->list(page, t0 + 70s);
  BOOST_REQUIRE_EQUAL(first.size(), 1u);
  BOOST_TEST(first[0].id == other);
  BOOST_TEST(db->retry_now(other, t0 + 70s) == store::retry_result::moved);
  page.before = first.back().id;
  page.limit = 10;
  BOOST_TEST(ids(page) == (v{late, early}), boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(user_strings_are_stored_verbatim, fixture) {
  jobs::new_job j;
  j.kind = "k";
  j.payload = R"({"text":"'; DROP TABLE jobs; --","emoji":"\u00e9\u2603"})";
  j.unique_key = "x'); DELETE FROM ready; --";
  const auto id = add(j, t0);
  auto got = get(id);
  BOOST_TEST(got.payload == j.payload);
  BOOST_TEST(*got.unique_key == *j.unique_key);
}

BOOST_FIXTURE_TEST_CASE(user_strings_in_every_field_are_stored_verbatim, fixture) {
  // Kinds and queues are validated by the runtime, not the store: the store must still take any
  // string as data, never as SQL.
  const std::string evil = "x'); DELETE FROM ready; --\"\\";
  jobs::new_job j;
  j.kind = evil;
  j.queue = evil + "q";
  j.payload = R"({"s":"'; DROP TABLE jobs; --"})";
  j.unique_key = evil + "k";
  const auto id = add(j, t0);
  auto got = get(id);
  BOOST_TEST(got.kind == j.kind);
  BOOST_TEST(got.queue == j.queue);
  BOOST_TEST(got.payload == j.payload);
  BOOST_TEST(*got.unique_key == *j.unique_key);
  store::list_filter by_kind;
  by_kind.kind = evil;
  BOOST_TEST(db->list(by_kind, t0).size() == 1u);
  auto claimed = claim(5, t0, j.queue);
  BOOST_REQUIRE_EQUAL(claimed.size(), 1u);
  BOOST_TEST(claimed[0].kind == evil);
  std::vector<jobs::completion> kill{done(claimed[0], transition::to::dead, t0)};
  kill[0].change.note = evil;
  kill[0].change.error->message = evil;
  BOOST_TEST(db->complete(kill).empty());
  auto dead = get(id);
  BOOST_TEST(dead.note == evil);
  BOOST_TEST(dead.errors.at(0).message == evil);
  store::dead_filter which;
  which.kind = evil;
  which.queue = j.queue;
  BOOST_TEST(db->requeue_dead(which, t0) == 1);
  BOOST_TEST(db->count(t0).queues[j.queue]["available"] == 1);
}

BOOST_FIXTURE_TEST_CASE(a_batch_insert_keeps_order_and_unique_keys_within_it, fixture) {
  std::vector<jobs::new_job> batch(5);
  for (int i = 0; i < 5; ++i) {
    batch[i].kind = "k" + std::to_string(i);
    batch[i].priority = i;
  }
  batch[1].unique_key = "same";
  batch[3].unique_key = "same";
  auto r = db->insert(batch, t0);
  BOOST_REQUIRE_EQUAL(r.size(), 5u);
  BOOST_TEST(!r[1].duplicate);
  BOOST_TEST(r[3].duplicate);
  BOOST_TEST(r[3].id == r[1].id);
  for (int i : {0, 1, 2, 4}) BOOST_TEST(get(r[i].id).kind == "k" + std::to_string(i));
  BOOST_TEST(r[0].id < r[1].id);
  BOOST_TEST(r[2].id < r[4].id);
  BOOST_TEST(db->count(t0).states["available"] == 4);
}

BOOST_FIXTURE_TEST_CASE(cancelled_and_snoozed_transitions, fixture) {
  add("k");
  add("k");
  auto got = claim(2, t0);
  BOOST_REQUIRE_EQUAL(got.size(), 2u);
  auto cancel = done(got[0], transition::to::cancelled, t0 + 1s);
  cancel.change.note = "cancelled by operator";
  auto snooze = done(got[1], transition::to::requeue, t0 + 1s, t0 + 1min);
  std::vector<jobs::completion> batch{cancel, snooze};
  BOOST_TEST(db->complete(batch).empty());
  auto c = get(got[0].id);
  BOOST_TEST(c.st == jobs::state::cancelled);
  BOOST_TEST(c.note == "cancelled by operator");
  auto s = *db->get(got[1].id, t0 + 2s);
  BOOST_TEST(s.st == jobs::state::scheduled);  // its attempt given back: waiting, not retrying
  BOOST_TEST(s.attempt == 0);
  BOOST_TEST(db->next_due("default", t0 + 2s).value().time_since_epoch().count() ==
             (t0 + 1min).time_since_epoch().count());
  // A completion applied twice is stale the second time.
  BOOST_TEST(db->complete(batch).size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(two_connections_never_claim_the_same_job, fixture) {
  if (test::memory_backend()) {
    // Shared-cache connections answer SQLITE_LOCKED at once (no busy wait) while another writes.
    BOOST_TEST_MESSAGE("not on a shared-cache in-memory database: concurrent connections");
    return;
  }
  for (int i = 0; i < 400; ++i) add("k");
  auto other = store::open(scratch.url());
  std::vector<jobs::job_id> a, b;
  std::thread t([&] {
    for (int i = 0; i < 40; ++i)
      for (auto& j : other->claim("default", 7, "w2", t0, t0 + 30s)) b.push_back(j.id);
  });
  for (int i = 0; i < 40; ++i)
    for (auto& j : claim(7, t0)) a.push_back(j.id);
  t.join();
  std::set<jobs::job_id> all(a.begin(), a.end());
  for (auto id : b) BOOST_TEST(all.insert(id).second, "job " << id << " claimed twice");
  BOOST_TEST(all.size() == 400u);
}

BOOST_FIXTURE_TEST_CASE(migrations_apply_once, fixture) {
  BOOST_TEST(db->migrate() == 0);
  auto other = store::open(scratch.url());
  BOOST_TEST(other->migrate() == 0);
  other->ping();
}

BOOST_FIXTURE_TEST_CASE(one_leader_at_a_time_and_a_new_one_after_expiry, fixture) {
  BOOST_TEST(db->lead("n1", t0, 10s));
  BOOST_TEST(!db->lead("n2", t0 + 5s, 10s));
  BOOST_TEST(db->lead("n1", t0 + 6s, 10s));  // renewal extends to t0 + 16 s
  BOOST_TEST(!db->lead("n2", t0 + 15s, 10s));
  BOOST_TEST(db->lead("n2", t0 + 17s, 10s));  // n1 went silent
  BOOST_TEST(!db->lead("n1", t0 + 18s, 10s));
  db->resign("n1");  // not the holder: no effect
  BOOST_TEST(!db->lead("n1", t0 + 19s, 10s));
  db->resign("n2");
  BOOST_TEST(db->lead("n1", t0 + 19s, 10s));
}

BOOST_FIXTURE_TEST_CASE(node_registry_records_refreshes_and_forgets, fixture) {
  store::node_info a{"host-a:1:x", "host-a", 1, t0, t0, {"default", "mail"}, false, {"noop", "send_mail"}};
  store::node_info b{"host-b:2:y", "host-b", 2, t0 + 1s, t0 + 1s, {"default"}, false};
  db->heartbeat(a, t0);
  db->heartbeat(b, t0 + 1s);
  db->heartbeat(a, t0 + 5s);
  BOOST_TEST(db->lead(a.id, t0 + 5s, 10s));
  auto nodes = db->nodes(t0 + 6s);
  BOOST_REQUIRE_EQUAL(nodes.size(), 2u);
  BOOST_TEST(nodes[0].id == a.id);
  BOOST_TEST(nodes[0].host == "host-a");
  BOOST_TEST(nodes[0].pid == 1);
  BOOST_TEST(nodes[0].heartbeat_at.time_since_epoch().count() == (t0 + 5s).time_since_epoch().count());
  BOOST_TEST(nodes[0].queues == (std::vector<std::string>{"default", "mail"}),
             boost::test_tools::per_element());
  BOOST_TEST(nodes[0].kinds == (std::vector<std::string>{"noop", "send_mail"}), boost::test_tools::per_element());
  BOOST_TEST(nodes[1].kinds.empty());
  BOOST_TEST(nodes[0].leader);
  BOOST_TEST(!nodes[1].leader);
  BOOST_TEST(db->forget_nodes_before(t0 + 2s) == 1);  // b went silent
  db->forget_node(a.id);
  BOOST_TEST(db->nodes(t0 + 6s).empty());
}

BOOST_FIXTURE_TEST_CASE(an_empty_claim_or_completion_changes_nothing, fixture) {
  BOOST_TEST(claim(10, t0).empty());
  BOOST_TEST(db->complete({}).empty());
  db->renew({}, t0);
  BOOST_TEST(db->expired(t0 + 1h, 10).empty());
  BOOST_TEST(!db->next_due("default", t0));
  BOOST_TEST(db->list({}, t0).empty());
}

BOOST_AUTO_TEST_CASE(an_unopenable_database_is_a_clear_error) {
  if (test::postgres_backend()) {
    // Nothing listens on port 1; the password must not appear in the message.
    BOOST_CHECK_EXCEPTION(store::open("postgresql://u:secret@127.0.0.1:1/none"), store::store_error,
                          [](const store::store_error& e) {
                            const std::string m = e.what();
                            return m.find("127.0.0.1:1") != std::string::npos &&
                                   m.find("secret") == std::string::npos;
                          });
    return;
  }
  BOOST_CHECK_EXCEPTION(store::open("sqlite:/nonexistent-dir/x.db"), store::store_error,
                        [](const store::store_error& e) {
                          return std::string(e.what()).find("/nonexistent-dir/x.db") !=
                                 std::string::npos;
                        });
  BOOST_CHECK_THROW(store::open("mysql://x"), store::store_error);
}

BOOST_FIXTURE_TEST_CASE(counts_are_kept_by_every_transition, fixture) {
  jobs::new_job mail;
  mail.kind = "m";
  mail.queue = "mail";
  const auto later = add("k", 0, t0 + 1h);
  add("k");
  add("k");
  add(mail, t0);
  add(mail, t0);
  jobs::new_job keyed;
  keyed.kind = "k";
  keyed.unique_key = "once";
  add(keyed, t0);
  BOOST_TEST(add(keyed, t0) > 0);  // a duplicate: counted once
  counts_agree("inserts");
  auto c = db->count(t0);
  BOOST_TEST(c.queues["default"]["available"] == 3);
  BOOST_TEST(c.queues["default"]["scheduled"] == 1);
  BOOST_TEST(c.queues["mail"]["available"] == 2);
  BOOST_TEST(c.states["available"] == 5);

  auto got = claim(3, t0);
  BOOST_REQUIRE_EQUAL(got.size(), 3u);
  counts_agree("claim");
  BOOST_TEST(db->count(t0).queues["default"]["running"] == 3);
  std::vector<jobs::completion> batch{done(got[0], transition::to::completed, t0),
                                      done(got[1], transition::to::retry, t0, t0 + 1h),
                                      done(got[2], transition::to::requeue, t0, t0)};
  BOOST_TEST(db->complete(batch).empty());
  counts_agree("complete, retry, requeue");
  BOOST_TEST(db->complete(batch).size() == 3u);  // stale: changes nothing
  counts_agree("stale completions");
  c = db->count(t0);
  BOOST_TEST(c.queues["default"]["completed"] == 1);
  BOOST_TEST(c.queues["default"]["retrying"] == 1);
  BOOST_TEST(c.queues["default"]["available"] == 1);
  BOOST_TEST(c.queues["default"]["scheduled"] == 1);
  BOOST_TEST(c.queues["default"]["running"] == 0);
  BOOST_TEST(db->count(t0 + 2h).queues["default"]["available"] == 3);  // time alone makes them due

  got = claim(2, t0, "mail");
  BOOST_REQUIRE_EQUAL(got.size(), 2u);
  batch = {done(got[0], transition::to::dead, t0), done(got[1], transition::to::cancelled, t0)};
  db->complete(batch);
  counts_agree("dead and cancelled");
  c = db->count(t0);
  BOOST_TEST(c.queues["mail"]["dead"] == 1);
  BOOST_TEST(c.queues["mail"]["cancelled"] == 1);

  BOOST_TEST(db->cancel(later, t0) == store::cancel_result::cancelled);
  counts_agree("operator cancel");
  BOOST_TEST(db->requeue_dead({}, t0) == 1);
  counts_agree("requeue dead");
  got = claim(1, t0, "mail");
  batch = {done(got[0], transition::to::dead, t0)};
  db->complete(batch);
  BOOST_TEST(db->purge_dead({}) == 1);
  counts_agree("purge dead");
  BOOST_TEST(db->count(t0).queues["mail"]["dead"] == 0);

  // An enqueue that claims for an idle producer in the same transaction.
  jobs::new_job one;
  one.kind = "k";
  one.queue = "idle";
  store::claim_request standing{.queue = "idle", .limit = 1, .worker = "w1", .now = t0,
                                .lease_until = t0 + 30s};
  auto r = db->insert_and_claim(std::span(&one, 1), t0, std::span(&standing, 1));
  BOOST_TEST(r.claimed.at(0).size() == 1u);
  counts_agree("insert and claim");
  BOOST_TEST(db->count(t0).queues["idle"]["running"] == 1);

  const auto old = prune_req(jobs::state::completed, t0 + 1s, std::nullopt, {}, 1000);
  BOOST_TEST(db->prune(old) == 1);
  counts_agree("prune");
  BOOST_TEST(db->count(t0).queues["default"]["completed"] == 0);
}

// Plain successes of one lease are counted from how many rows the completion wrote: a batch in
// which some of them are stale or twice over must count only the jobs it finished.
BOOST_FIXTURE_TEST_CASE(counts_stay_exact_when_a_lease_batch_has_stale_and_repeated_completions,
                        fixture) {
  for (int i = 0; i < 3; ++i) add("k");
  auto got = claim(3, t0);  // one lease
  BOOST_REQUIRE_EQUAL(got.size(), 3u);
  std::vector<jobs::completion> first{done(got[0], transition::to::completed, t0)};
  BOOST_TEST(db->complete(first).empty());
  counts_agree("one of the lease's jobs");
  // got[0] again (stale now), got[1] twice, got[2] once: two jobs finish.
  std::vector<jobs::completion> mixed{done(got[0], transition::to::completed, t0),
                                      done(got[1], transition::to::completed, t0),
                                      done(got[1], transition::to::completed, t0),
                                      done(got[2], transition::to::completed, t0)};
  const auto stale = db->complete(mixed);
  BOOST_TEST(std::count(stale.begin(), stale.end(), got[0].id) >= 1);
  counts_agree("stale and repeated completions");
  auto c = db->count(t0);
  BOOST_TEST(c.queues["default"]["completed"] == 3);
  BOOST_TEST(c.queues["default"]["running"] == 0);
}

BOOST_FIXTURE_TEST_CASE(counts_of_a_queue_whose_jobs_are_all_gone_disappear, fixture) {
  add("k");
  auto got = claim(1, t0);
  std::vector<jobs::completion> ok{done(got[0], transition::to::completed, t0)};
  db->complete(ok);
  BOOST_TEST(db->count(t0).queues.count("default") == 1u);
  BOOST_TEST(db->prune(prune_req(jobs::state::completed, t0 + 1s, std::nullopt, {}, 1000)) == 1);
  BOOST_TEST(db->count(t0).queues.count("default") == 0u);
  BOOST_TEST(db->count(t0).states["completed"] == 0);
}

// A result is committed with the completion that is accepted, in the same round as plain
// successes; a stale attempt's result is not; a result goes with its job when it is pruned.
BOOST_FIXTURE_TEST_CASE(results_are_kept_with_accepted_completions_and_pruned_with_their_job, fixture) {
  const auto a = add("k"), b = add("k"), plain = add("k");
  std::map<jobs::job_id, jobs::claimed_job> claimed;
  for (auto& j : claim(10, t0)) claimed[j.id] = j;
  BOOST_REQUIRE_EQUAL(claimed.size(), 3u);
  auto with_result = [&](jobs::job_id id, std::string result) {
    auto c = done(claimed[id], transition::to::completed, t0 + 1s);
    c.change.result = std::move(result);
    return c;
  };
  // b's lease is lost before it completes: its result must not be stored.
  auto stale_b = with_result(b, R"({"stale":true})");
  stale_b.lease += 1000;
  std::vector<jobs::completion> batch{with_result(a, R"({"tokens": 12, "text": "h\u00e9 \"x\""})"), stale_b,
                                      done(claimed[plain], transition::to::completed, t0 + 1s)};
  const auto stale = db->complete(batch);
  BOOST_REQUIRE_EQUAL(stale.size(), 1u);
  BOOST_TEST(stale[0] == b);
  const auto ja = get(a);
  BOOST_TEST(ja.st == jobs::state::completed);
  BOOST_REQUIRE(ja.result.has_value());
  const auto parsed = boost::json::parse(*ja.result);
  BOOST_TEST(parsed.at("tokens").to_number<int>() == 12);
  BOOST_TEST(parsed.at("text").as_string() == "h\xc3\xa9 \"x\"");
  BOOST_TEST(!get(plain).result.has_value());
  BOOST_TEST(get(plain).st == jobs::state::completed);
  BOOST_TEST(get(b).st == jobs::state::running);
  BOOST_TEST(!get(b).result.has_value());
  BOOST_TEST(rows("SELECT COUNT(*) FROM job_results") == 1);
  // b completes under its own lease with a result that is a bare JSON string.
  batch = {with_result(b, R"("done")")};
  BOOST_TEST(db->complete(batch).empty());
  BOOST_REQUIRE(get(b).result.has_value());
  BOOST_TEST(boost::json::parse(*get(b).result).as_string() == "done");
  counts_agree("results");
  BOOST_TEST(db->prune(prune_req(jobs::state::completed, t0 + 1h)) == 3);
  BOOST_TEST(rows("SELECT COUNT(*) FROM job_results") == 0);
}

BOOST_FIXTURE_TEST_CASE(follow_ups_are_inserted_only_with_the_completions_applied, fixture) {
  const auto a = add("k"), b = add("k"), c = add("k");
  std::map<jobs::job_id, jobs::claimed_job> claimed;
  for (auto& j : claim(10, t0)) claimed[j.id] = j;
  BOOST_REQUIRE_EQUAL(claimed.size(), 3u);
  auto next = [](jobs::job_id from, std::string queue = "default") {
    jobs::new_job j;
    j.kind = "next";
    j.queue = std::move(queue);
    j.payload = R"({"from":)" + std::to_string(from) + "}";
    j.unique_key = "next-of-" + std::to_string(from);
    return j;
  };
  // a: a plain success with two follow-ups; b: its lease was lost; c: a success with a result.
  auto done_a = done(claimed[a], transition::to::completed, t0 + 1s);
  done_a.follow_ups = {next(a), next(a, "other")};
  done_a.follow_ups[1].unique_key.reset();
  auto stale_b = done(claimed[b], transition::to::completed, t0 + 1s);
  stale_b.follow_ups = {next(b)};
  stale_b.lease += 1000;
  auto done_c = done(claimed[c], transition::to::completed, t0 + 1s);
  done_c.change.result = "7";
  done_c.follow_ups = {next(c)};
  std::vector<jobs::completion> batch{done_a, stale_b, done_c};
  // The round also claims from the default queue: it sees the follow-ups it just inserted.
  const auto r = db->complete_and_claim(batch, {.queue = "default", .limit = 10, .worker = "w1",
                                                .now = t0 + 2s, .lease_until = t0 + 1min});
  BOOST_REQUIRE_EQUAL(r.stale.size(), 1u);
  BOOST_TEST(r.stale[0] == b);
  BOOST_REQUIRE_EQUAL(r.follow_ups.size(), 3u);  // a's two, then c's
  BOOST_TEST(!r.follow_ups[0].duplicate);
  std::set<jobs::job_id> claimed_now;
  for (auto& j : r.claimed) claimed_now.insert(j.id);
  BOOST_TEST(claimed_now == (std::set<jobs::job_id>{r.follow_ups[0].id, r.follow_ups[2].id}));
  store::list_filter of_next;
  of_next.kind = "next";
  std::multiset<std::string> payloads;
  for (auto& j : db->list(of_next, t0 + 2s)) payloads.insert(j.payload);
  const auto from = [](jobs::job_id id) { return R"({"from":)" + std::to_string(id) + "}"; };
  BOOST_TEST(payloads == (std::multiset<std::string>{from(a), from(a), from(c)}));
  BOOST_TEST(get(r.follow_ups[1].id).queue == "other");
  BOOST_TEST((get(r.follow_ups[1].id).created_at == t0 + 1s));
  counts_agree("a round with follow-ups");

  // b, completed under its own lease later, adds its follow-up; a follow-up whose unique key is
  // held answers the holder, as any enqueue does.
  auto done_b = done(claimed[b], transition::to::completed, t0 + 3s);
  done_b.follow_ups = {next(b), next(a)};
  batch = {done_b};
  const auto r2 = db->complete_and_claim(batch, {});
  BOOST_TEST(r2.stale.empty());
  BOOST_REQUIRE_EQUAL(r2.follow_ups.size(), 2u);
  BOOST_TEST(!r2.follow_ups[0].duplicate);
  BOOST_TEST(r2.follow_ups[1].duplicate);
  BOOST_TEST(r2.follow_ups[1].id == r.follow_ups[0].id);
  BOOST_TEST(db->list(of_next, t0 + 3s).size() == 4u);
  counts_agree("follow-ups with a held unique key");
}

BOOST_FIXTURE_TEST_CASE(prune_by_state_and_age_and_nothing_before_its_time, fixture) {
  // Finished at t0: a completed (default), b completed (queue "keep"), c cancelled, d dead with
  // an error and a unique key; e completed at t0 + 10 s.
  const auto a = add("k");
  jobs::new_job keep;
  keep.kind = "k";
  keep.queue = "keep";
  const auto b = add(keep, t0);
  const auto c = add("k");
  jobs::new_job keyed;
  keyed.kind = "k";
  keyed.unique_key = "key-d";
  const auto d = add(keyed, t0);
  const auto e = add("k");
  std::map<jobs::job_id, jobs::claimed_job> claimed;
  for (auto& j : claim(10, t0)) claimed[j.id] = j;
  for (auto& j : claim(10, t0, "keep")) claimed[j.id] = j;
  BOOST_REQUIRE_EQUAL(claimed.size(), 5u);
  std::vector<jobs::completion> batch{done(claimed[a], transition::to::completed, t0),
                                      done(claimed[b], transition::to::completed, t0),
                                      done(claimed[c], transition::to::cancelled, t0),
                                      done(claimed[d], transition::to::dead, t0)};
  db->complete(batch);
  batch = {done(claimed[e], transition::to::completed, t0 + 10s)};
  db->complete(batch);
  BOOST_TEST(rows("SELECT COUNT(*) FROM job_errors WHERE job_id = " + std::to_string(d)) == 1);

  using jobs::state;
  // Strictly older than the cutoff: a job finished exactly at it stays.
  BOOST_TEST(db->prune(prune_req(state::completed, t0, std::nullopt, {}, 1000)) == 0);
  BOOST_TEST(db->prune(prune_req(state::cancelled, t0, std::nullopt, {}, 1000)) == 0);
  BOOST_TEST(db->prune(prune_req(state::dead, t0, std::nullopt, {}, 1000)) == 0);
  for (auto id : {a, b, c, d, e}) BOOST_TEST(db->get(id, t0).has_value());

  // Queues with a retention of their own are left to their own request.
  BOOST_TEST(db->prune(prune_req(state::completed, t0 + 5s, std::nullopt, {"keep"}, 1000)) == 1);
  BOOST_TEST(!db->get(a, t0));
  BOOST_TEST(db->get(b, t0).has_value());
  BOOST_TEST(db->get(e, t0).has_value());  // finished after the cutoff
  BOOST_TEST(db->get(c, t0).has_value());  // another state
  BOOST_TEST(db->prune(prune_req(state::completed, t0 + 5s, "keep", {}, 1000)) == 1);
  BOOST_TEST(!db->get(b, t0));

  BOOST_TEST(db->prune(prune_req(state::cancelled, t0 + 1s, std::nullopt, {}, 1000)) == 1);
  BOOST_TEST(!db->get(c, t0));
  BOOST_TEST(db->prune(prune_req(state::dead, t0 + 1s, std::nullopt, {}, 1000)) == 1);
  BOOST_TEST(!db->get(d, t0));
  // What belonged to the dead job went with it.
  BOOST_TEST(rows("SELECT COUNT(*) FROM job_errors WHERE job_id = " + std::to_string(d)) == 0);
  BOOST_TEST(rows("SELECT COUNT(*) FROM unique_keys WHERE job_id = " + std::to_string(d)) == 0);
  BOOST_TEST(rows("SELECT COUNT(*) FROM jobs WHERE id = " + std::to_string(d)) == 0);
  BOOST_TEST(db->get(e, t0).has_value());
  counts_agree("pruning");
  BOOST_CHECK_THROW(db->prune(prune_req(state::available, t0 + 1h, std::nullopt, {}, 1000)), store::store_error);
}

BOOST_FIXTURE_TEST_CASE(prune_goes_in_bounded_batches_oldest_first, fixture) {
  std::vector<jobs::job_id> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(add("k"));
  auto got = claim(5, t0);
  BOOST_REQUIRE_EQUAL(got.size(), 5u);
  std::sort(got.begin(), got.end(), [](auto& x, auto& y) { return x.id < y.id; });
  for (int i = 0; i < 5; ++i) {
    // Finished in reverse order of their ids: the last one is the oldest.
    std::vector<jobs::completion> one{done(got[i], transition::to::completed, t0 + std::chrono::seconds(5 - i))};
    db->complete(one);
  }
  const auto all = prune_req(jobs::state::completed, t0 + 1h, std::nullopt, {}, 2);
  BOOST_TEST(db->prune(all) == 2);
  BOOST_TEST(!db->get(ids[4], t0));
  BOOST_TEST(!db->get(ids[3], t0));
  BOOST_TEST(db->get(ids[0], t0).has_value());
  BOOST_TEST(db->prune(all) == 2);
  BOOST_TEST(db->prune(all) == 1);
  BOOST_TEST(db->prune(all) == 0);
  counts_agree("batches");
}

BOOST_FIXTURE_TEST_CASE(a_job_pruned_while_an_operator_reads_it, fixture) {
  if (test::memory_backend()) {
    // Shared-cache connections answer SQLITE_LOCKED at once (no busy wait) while another writes.
    BOOST_TEST_MESSAGE("not on a shared-cache in-memory database: concurrent connections");
    return;
  }
  // A dead job with two failed attempts: an operator's read sees it whole or not at all.
  jobs::new_job j;
  j.kind = "k";
  j.max_attempts = 2;
  const auto id = add(j, t0);
  auto got = claim(1, t0);
  std::vector<jobs::completion> step{done(got[0], transition::to::retry, t0, t0)};
  db->complete(step);
  got = claim(1, t0);
  step = {done(got[0], transition::to::dead, t0)};
  db->complete(step);
  BOOST_REQUIRE_EQUAL(db->get(id, t0)->errors.size(), 2u);

  auto reader = store::open(scratch.url());
  std::size_t whole = 0, gone = 0, torn = 0;
  std::thread operator_reads([&] {
    for (int i = 0; i < 2000 && gone == 0; ++i) {
      auto seen = reader->get(id, t0);
      if (!seen) ++gone;
      else if (seen->errors.size() == 2u) ++whole;
      else ++torn;
    }
  });
  std::this_thread::sleep_for(5ms);
  BOOST_TEST(db->prune(prune_req(jobs::state::dead, t0 + 1s, std::nullopt, {}, 1000)) == 1);
  operator_reads.join();
  BOOST_TEST(torn == 0u);
  BOOST_TEST(whole + gone > 0u);
  // Afterwards every operator action says "not found", none fails.
  BOOST_TEST(!reader->get(id, t0));
  BOOST_TEST(reader->cancel(id, t0) == store::cancel_result::not_found);
  BOOST_TEST(reader->retry_now(id, t0) == store::retry_result::not_found);
  store::dead_filter one;
  one.id = id;
  BOOST_TEST(reader->requeue_dead(one, t0) == 0);
  BOOST_TEST(reader->list({}, t0).empty());
  counts_agree("pruned while read");
}

namespace {

jobs::new_job tick_job(const std::string& name, jobs::time_point tick) {
  jobs::new_job j;
  j.kind = "report";
  j.payload = R"({"schedule":")" + name + "\"}";
  j.unique_key = "periodic:" + name + ":" + std::to_string(tick.time_since_epoch().count());
  j.unique_for = std::chrono::hours(24 * 366);
  return j;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_periodic_tick_is_enqueued_once_and_recorded_with_its_job, fixture) {
  const auto tick = t0 - 1s;
  auto first = db->enqueue_periodic("nightly", tick, tick_job("nightly", tick), t0);
  BOOST_REQUIRE(first);
  BOOST_TEST(!first->duplicate);
  BOOST_TEST(get(first->id).kind == "report");
  // The same tick again (a restart, a second leader): nothing new.
  BOOST_TEST(!db->enqueue_periodic("nightly", tick, tick_job("nightly", tick), t0 + 1s));
  // An older tick (a leader whose clock lags) neither.
  BOOST_TEST(!db->enqueue_periodic("nightly", tick - 1h, tick_job("nightly", tick - 1h), t0 + 1s));
  auto stored = db->periodic_rows();
  BOOST_REQUIRE_EQUAL(stored.size(), 1u);
  BOOST_TEST(stored[0].name == "nightly");
  BOOST_TEST((stored[0].last_tick == tick));
  BOOST_TEST((stored[0].last_job_id == std::optional<jobs::job_id>(first->id)));
  // The next tick makes a second job and moves the record on.
  auto second = db->enqueue_periodic("nightly", tick + 1h, tick_job("nightly", tick + 1h), t0 + 1h);
  BOOST_REQUIRE(second);
  BOOST_TEST(second->id != first->id);
  stored = db->periodic_rows();
  BOOST_TEST((stored[0].last_tick == tick + 1h));
  BOOST_TEST((stored[0].last_job_id == std::optional<jobs::job_id>(second->id)));
  BOOST_TEST(rows("SELECT COUNT(*) FROM jobs") == 2);
  counts_agree("periodic enqueues");
}

BOOST_FIXTURE_TEST_CASE(a_periodic_tick_whose_key_is_held_answers_the_holder, fixture) {
  // The schedule's row was forgotten (removed, then added back) while its tick's job still waits.
  const auto tick = t0 - 1s;
  auto first = db->enqueue_periodic("hourly", tick, tick_job("hourly", tick), t0);
  BOOST_REQUIRE(first);
  const std::vector<std::string> none;
  BOOST_TEST(db->forget_periodic(none) == 1);
  auto again = db->enqueue_periodic("hourly", tick, tick_job("hourly", tick), t0 + 1s);
  BOOST_REQUIRE(again);
  BOOST_TEST(again->duplicate);
  BOOST_TEST(again->id == first->id);
  BOOST_TEST(rows("SELECT COUNT(*) FROM jobs") == 1);
  BOOST_TEST((db->periodic_rows().at(0).last_job_id == std::optional<jobs::job_id>(first->id)));
}

BOOST_FIXTURE_TEST_CASE(removed_periodic_schedules_leave_no_rows, fixture) {
  for (const char* name : {"a", "b", "c"})
    BOOST_REQUIRE(db->enqueue_periodic(name, t0, tick_job(name, t0), t0));
  const std::vector<std::string> keep{"b", "z"};
  BOOST_TEST(db->forget_periodic(keep) == 2);
  auto stored = db->periodic_rows();
  BOOST_REQUIRE_EQUAL(stored.size(), 1u);
  BOOST_TEST(stored[0].name == "b");
  BOOST_TEST(db->forget_periodic(keep) == 0);
}

BOOST_FIXTURE_TEST_CASE(two_leaders_racing_for_one_tick_make_one_job, fixture) {
  if (test::memory_backend()) {
    BOOST_TEST_MESSAGE("not on a shared-cache in-memory database: concurrent connections");
    return;
  }
  // Several rounds of 8 connections enqueueing the same tick at once (on PostgreSQL each in its
  // own transaction): exactly one is told it enqueued the tick, and one job exists per tick.
  constexpr int leaders = 8;
  std::vector<std::unique_ptr<store::store>> conns;
  for (int i = 0; i < leaders; ++i) conns.push_back(store::open(scratch.url()));
  for (int round = 0; round < 5; ++round) {
    const auto tick = t0 + std::chrono::minutes(round);
    std::vector<std::optional<store::insert_result>> results(leaders);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < leaders; ++i)
      threads.emplace_back([&, i] {
        ready++;
        while (ready.load() < leaders) std::this_thread::yield();
        results[i] = conns[i]->enqueue_periodic("race", tick, tick_job("race", tick), tick);
      });
    for (auto& t : threads) t.join();
    int enqueued = 0;
    for (auto& r : results) enqueued += r && !r->duplicate ? 1 : 0;
    BOOST_TEST(enqueued == 1, "round " << round);
    BOOST_TEST(rows("SELECT COUNT(*) FROM jobs") == round + 1);
  }
  counts_agree("racing periodic enqueues");
}

// --- dependencies -------------------------------------------------------------------------------

namespace {
jobs::new_job dependant(std::vector<jobs::job_id> parents,
                        jobs::parent_failure on_failure = jobs::parent_failure::cancel) {
  jobs::new_job j;
  j.kind = "child";
  j.depends_on = std::move(parents);
  j.on_parent_failure = on_failure;
  return j;
}
}  // namespace

BOOST_FIXTURE_TEST_CASE(a_dependant_is_pending_until_its_parents_complete_and_due_in_that_transaction, fixture) {
  const auto p1 = add("k"), p2 = add("k");
  const auto child = add(dependant({p1, p2}), t0);
  BOOST_TEST(get(child).st == jobs::state::pending);
  BOOST_TEST(!get(child).run_at.has_value(), "a pending job has no run_at to show");
  BOOST_TEST((get(child).depends_on == std::vector<jobs::job_id>{p1, p2}));
  BOOST_TEST(db->count(t0).states.at("pending") == 1);
  BOOST_TEST(db->retry_now(child, t0) == store::retry_result::not_waiting);
  BOOST_TEST(!db->next_due("default", t0), "nothing to wake a producer for");

  auto parents = claim(10, t0 + 1ms);
  BOOST_REQUIRE_EQUAL(parents.size(), 2u);  // the dependant is not due
  std::map<jobs::job_id, jobs::claimed_job> by_id;
  for (auto& c : parents) by_id[c.id] = c;
  std::vector<jobs::completion> first{done(by_id[p1], transition::to::completed, t0 + 1s)};
  first[0].change.result = R"({"words":3})";
  BOOST_TEST(db->complete(first).empty());
  BOOST_TEST(get(child).st == jobs::state::pending, "one parent is still running");

  // The last parent's round makes it due (SQLite's round claims it at once; PostgreSQL's claims in
  // the same statement as the completions, so the next round takes it).
  std::vector<jobs::completion> last{done(by_id[p2], transition::to::completed, t0 + 2s)};
  auto round = db->complete_and_claim(last, {.queue = "default", .limit = 10, .worker = "w1",
                                             .now = t0 + 2s, .lease_until = t0 + 32s});
  BOOST_TEST(round.stale.empty());
  BOOST_TEST((round.released == std::vector<std::string>{"default"}));
  if (round.claimed.empty()) {
    BOOST_TEST(get(child).st == jobs::state::available);
    round.claimed = claim(10, t0 + 3s);
  }
  BOOST_REQUIRE_EQUAL(round.claimed.size(), 1u);
  BOOST_TEST(round.claimed[0].id == child);

  const auto results = db->parent_results(child);
  BOOST_REQUIRE_EQUAL(results.size(), 2u);
  BOOST_TEST(results[0].id == p1);
  BOOST_REQUIRE(results[0].result.has_value());
  BOOST_TEST(boost::json::parse(*results[0].result) == boost::json::parse(R"({"words":3})"));
  BOOST_TEST(results[1].id == p2);
  BOOST_TEST(!results[1].result.has_value());
  counts_agree("after a dependant ran");
}

BOOST_FIXTURE_TEST_CASE(a_parent_that_ends_dead_cancels_its_dependants_down_the_line_unless_they_run_anyway,
                        fixture) {
  const auto parent = add("k");
  const auto cancelled = add(dependant({parent}), t0);
  const auto grandchild = add(dependant({cancelled}), t0);
  const auto anyway = add(dependant({parent}, jobs::parent_failure::run), t0);
  auto got = claim(10, t0);
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  std::vector<jobs::completion> dead{done(got[0], transition::to::dead, t0 + 1s)};
  BOOST_TEST(db->complete(dead).empty());
  BOOST_TEST(get(cancelled).st == jobs::state::cancelled);
  BOOST_TEST(get(cancelled).note == "dependency " + std::to_string(parent) + " ended dead");
  BOOST_TEST(get(grandchild).st == jobs::state::cancelled);
  BOOST_TEST(get(grandchild).note == "dependency " + std::to_string(cancelled) + " ended cancelled");
  BOOST_TEST(get(anyway).st == jobs::state::available);
  counts_agree("after a failure cascade");

  // A job that depends on ended jobs: due at once on completed ones, cancelled on a dead one.
  const auto late = add(dependant({parent}), t0 + 2s);
  BOOST_TEST(get(late).st == jobs::state::cancelled);
  const auto after_anyway = add(dependant({parent}, jobs::parent_failure::run), t0 + 2s);
  BOOST_TEST(get(after_anyway).st == jobs::state::available);
}

BOOST_FIXTURE_TEST_CASE(cancelling_a_waiting_parent_cancels_its_dependant, fixture) {
  const auto parent = add("k", 0, t0 + 1h);
  const auto child = add(dependant({parent}), t0);
  BOOST_TEST(db->cancel(parent, t0) == store::cancel_result::cancelled);
  BOOST_TEST(get(child).st == jobs::state::cancelled);
  BOOST_TEST(db->cancel(child, t0) == store::cancel_result::already_final);
  const auto other = add(dependant({add("k", 0, t0 + 1h)}), t0);
  BOOST_TEST(db->cancel(other, t0) == store::cancel_result::cancelled, "a pending job can be cancelled itself");
  counts_agree("after cancels");
}

BOOST_FIXTURE_TEST_CASE(unknown_parents_and_needs_out_of_order_are_refused_with_nothing_stored, fixture) {
  const auto before = rows("SELECT COUNT(*) FROM jobs");
  std::vector<jobs::new_job> batch{{.kind = "k"}, dependant({4242})};
  BOOST_CHECK_THROW(db->insert(batch, t0), store::dependency_error);
  jobs::new_job needs_later{.kind = "k"};
  needs_later.needs = {1};
  std::vector<jobs::new_job> out_of_order{needs_later, {.kind = "k"}};
  BOOST_CHECK_THROW(db->insert(out_of_order, t0), store::dependency_error);
  BOOST_TEST(rows("SELECT COUNT(*) FROM jobs") == before);
  BOOST_TEST(rows("SELECT COUNT(*) FROM job_dependencies") == 0);

  // Steps of one batch: the second needs the first.
  jobs::new_job second{.kind = "k"};
  second.needs = {0};
  std::vector<jobs::new_job> steps{{.kind = "k"}, second};
  auto ids = db->insert(steps, t0);
  BOOST_TEST(get(ids[1].id).st == jobs::state::pending);
  BOOST_TEST((get(ids[1].id).depends_on == std::vector<jobs::job_id>{ids[0].id}));
  counts_agree("after refused and accepted batches");
}

// The leader's check: a pending job whose parents all ended without settling it (its count lost,
// as after a crash between a PostgreSQL round and its settling) is released then.
BOOST_FIXTURE_TEST_CASE(settle_pending_releases_a_dependant_its_parents_did_not, fixture) {
  const auto parent = add("k");
  const auto child = add(dependant({parent}), t0);
  const auto other = add(dependant({add("k", 0, t0 + 1h)}), t0);
  {
    auto s = test::raw_session(scratch.url());
    *s << "UPDATE ready SET waiting = 5 WHERE id = " + std::to_string(child);
  }
  auto got = claim(10, t0);
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  std::vector<jobs::completion> ok{done(got[0], transition::to::completed, t0 + 1s)};
  BOOST_TEST(db->complete(ok).empty());
  BOOST_TEST(get(child).st == jobs::state::pending, "its count says 4 more");
  BOOST_TEST(db->settle_pending(t0 + 2s, 100) == 1);
  BOOST_TEST(get(child).st == jobs::state::available);
  BOOST_TEST(get(other).st == jobs::state::pending, "a parent of it has not ended");
  BOOST_TEST(db->settle_pending(t0 + 3s, 100) == 0);
}

// Queue pause (issue 20): stored for every node, listed, resumed; a queue no node serves too.
BOOST_FIXTURE_TEST_CASE(a_queue_pause_is_stored_listed_and_resumed, fixture) {
  BOOST_TEST(db->paused_queues().empty());
  db->set_paused("mail", true, t0);
  db->set_paused("served-by-nobody", true, t0 + 1s);
  db->set_paused("mail", true, t0 + 5s);  // again: still paused since the first time
  db->set_paused("never-paused", false, t0 + 2s);
  // Another connection (another node, the CLI) reads what this one wrote.
  auto other = store::open(scratch.url());
  auto paused = other->paused_queues();
  BOOST_REQUIRE_EQUAL(paused.size(), 2u);
  BOOST_TEST(paused[0].queue == "mail");
  BOOST_TEST(paused[0].since.time_since_epoch().count() == t0.time_since_epoch().count());
  BOOST_TEST(paused[1].queue == "served-by-nobody");
  BOOST_TEST(paused[1].since.time_since_epoch().count() == (t0 + 1s).time_since_epoch().count());

  other->set_paused("mail", false, t0 + 6s);
  paused = db->paused_queues();
  BOOST_REQUIRE_EQUAL(paused.size(), 1u);
  BOOST_TEST(paused[0].queue == "served-by-nobody");
  db->set_paused("mail", true, t0 + 7s);  // paused anew: since now
  paused = other->paused_queues();
  BOOST_REQUIRE_EQUAL(paused.size(), 2u);
  BOOST_TEST(paused[0].since.time_since_epoch().count() == (t0 + 7s).time_since_epoch().count());
}

// A snooze's tally goes with the job: the next claim carries it, a stale snooze does not count,
// and an operator's requeue from the dead-letter queue starts it from none.
BOOST_FIXTURE_TEST_CASE(a_snooze_records_the_jobs_tally_for_its_next_claim, fixture) {
  const auto id = add("k");
  const auto other = add("k");
  auto first = claim(2, t0);
  BOOST_REQUIRE_EQUAL(first.size(), 2u);
  for (auto& c : first) {
    BOOST_TEST(c.snoozes == 0);
    BOOST_TEST(c.snoozed_for.count() == 0);
  }
  std::map<jobs::job_id, jobs::claimed_job> by_id;
  for (auto& c : first) by_id[c.id] = c;
  // One round: a snooze and a plain success.
  auto snooze = done(by_id[id], transition::to::requeue, t0 + 1s, t0 + 2s);
  snooze.change.snoozed = jobs::snooze_tally{1, 1s};
  std::vector<jobs::completion> round{snooze, done(by_id[other], transition::to::completed, t0 + 1s)};
  BOOST_TEST(db->complete(round).empty());
  counts_agree("a snooze and a success");

  auto second = claim(1, t0 + 3s);
  BOOST_REQUIRE_EQUAL(second.size(), 1u);
  BOOST_TEST(second[0].id == id);
  BOOST_TEST(second[0].attempt == 1);  // a snooze gives the attempt back
  BOOST_TEST(second[0].snoozes == 1);
  BOOST_TEST(second[0].snoozed_for.count() == jobs::duration(1s).count());

  // A snooze whose lease is gone is not applied, nor is its tally.
  auto stale = done(second[0], transition::to::requeue, t0 + 4s, t0 + 5s);
  stale.lease += 1000;
  stale.change.snoozed = jobs::snooze_tally{2, 3s};
  std::vector<jobs::completion> lost{stale};
  BOOST_TEST(db->complete(lost).size() == 1u);
  BOOST_TEST(rows("SELECT snoozes FROM jobs WHERE id = " + std::to_string(id)) == 1);

  auto again = done(second[0], transition::to::requeue, t0 + 4s, t0 + 5s);
  again.change.snoozed = jobs::snooze_tally{2, 3s};
  std::vector<jobs::completion> applied{again};
  BOOST_TEST(db->complete(applied).empty());
  auto third = claim(1, t0 + 6s);
  BOOST_REQUIRE_EQUAL(third.size(), 1u);
  BOOST_TEST(third[0].snoozes == 2);
  BOOST_TEST(third[0].snoozed_for.count() == jobs::duration(3s).count());

  std::vector<jobs::completion> dead{done(third[0], transition::to::dead, t0 + 7s)};
  BOOST_TEST(db->complete(dead).empty());
  store::dead_filter one;
  one.id = id;
  BOOST_TEST(db->requeue_dead(one, t0 + 8s) == 1);
  auto fresh = claim(1, t0 + 9s);
  BOOST_REQUIRE_EQUAL(fresh.size(), 1u);
  BOOST_TEST(fresh[0].snoozes == 0);
  BOOST_TEST(fresh[0].snoozed_for.count() == 0);
  counts_agree("snoozes, a stale one, death and requeue");
}

// A job whose handler snoozes forever (a backend answering 429 for good): with the decisions of
// jobs::decide applied round after round, it fails an attempt at each snooze past the ceiling
// and ends in the dead-letter queue, saying why.
BOOST_FIXTURE_TEST_CASE(a_job_snoozing_forever_ends_dead_after_the_ceiling, fixture) {
  jobs::new_job j;
  j.kind = "k";
  j.max_attempts = 3;
  const auto id = add(j, t0);
  const jobs::snooze_ceiling ceiling{.max_snoozes = 5, .max_total = 24h};
  jobs::retry_policy policy;
  policy.base = 1s;
  policy.jitter = 0;
  std::mt19937_64 rng(1);
  auto now = t0;
  int rounds = 0, snoozes = 0;
  for (; rounds < 100; ++rounds) {
    auto got = claim(1, now);
    if (got.empty()) break;
    const auto& c = got.front();
    auto t = jobs::decide(jobs::outcome::snooze(10s), c.attempt, c.max_attempts, policy, now, rng,
                          {c.snoozes, c.snoozed_for}, ceiling);
    snoozes += t.snoozed ? 1 : 0;
    const auto next = t.next == transition::to::dead ? now : t.run_at;
    std::vector<jobs::completion> one{{c.id, c.lease, std::move(t)}};
    BOOST_REQUIRE(db->complete(one).empty());
    now = next + 1s;
  }
  // Five snoozes, then three attempts that each snoozed once more and failed.
  BOOST_TEST(snoozes == 5);
  BOOST_TEST(rounds == 8);
  const auto dead = get(id);
  BOOST_TEST(dead.st == jobs::state::dead);
  BOOST_TEST(dead.note == "snoozed 6 times, more than max_snoozes 5");
  BOOST_REQUIRE_EQUAL(dead.errors.size(), 3u);
  for (auto& e : dead.errors) BOOST_TEST(e.message == "snoozed 6 times, more than max_snoozes 5");
  counts_agree("a job snoozed to death");
}

// Concurrency limits (jobs/limits.hpp) in the claim.
namespace {
std::vector<jobs::claimed_job> claim_under(store::store& s, int n,
                                           std::span<const jobs::concurrency_limit> limits,
                                           jobs::time_point at, std::string q = "default") {
  return s.complete_and_claim({}, {.queue = std::move(q), .limit = n, .worker = "w1", .now = at,
                                   .lease_until = at + 30s, .limits = limits})
      .claimed;
}
std::map<std::string, int> kinds_of(const std::vector<jobs::claimed_job>& claimed) {
  std::map<std::string, int> out;
  for (auto& c : claimed) ++out[c.kind];
  return out;
}
}  // namespace

BOOST_FIXTURE_TEST_CASE(a_kind_limit_holds_in_the_claim_and_frees_a_slot_per_completion, fixture) {
  const std::vector<jobs::concurrency_limit> limits{{"gpu", "", 2, ""}};
  for (int i = 0; i < 4; ++i) {
    add("gpu");
    add("cpu");
  }
  auto first = claim_under(*db, 10, limits, t0 + 1s);
  BOOST_TEST(kinds_of(first)["gpu"] == 2);
  BOOST_TEST(kinds_of(first)["cpu"] == 4);  // the other kind's jobs behind the limit still start
  for (auto& c : first) BOOST_TEST(c.attempt == 1);
  // Another connection (another node) sees the two running and takes none.
  auto other = store::open(scratch.url());
  BOOST_TEST(claim_under(*other, 10, limits, t0 + 2s).empty());
  // One completes: one slot comes back, in the round that completes it.
  auto gpu = std::find_if(first.begin(), first.end(), [](auto& c) { return c.kind == "gpu"; });
  std::vector<jobs::completion> batch{done(*gpu, transition::to::completed, t0 + 3s)};
  auto round = db->complete_and_claim(batch, {.queue = "default", .limit = 10, .worker = "w1",
                                              .now = t0 + 3s, .lease_until = t0 + 33s,
                                              .limits = limits});
  BOOST_TEST(round.stale.empty());
  BOOST_TEST(kinds_of(round.claimed)["gpu"] == 1);
  BOOST_TEST(round.claimed.size() == 1u);
  // What an operator sees: two running, one due job waiting.
  auto use = db->limit_usage(limits, t0 + 4s);
  BOOST_REQUIRE_EQUAL(use.size(), 1u);
  BOOST_TEST(use[0].running[""] == 2);
  BOOST_TEST(use[0].waiting == 1);
  BOOST_TEST(!use[0].waiting_capped);
  // Without limits the same claim takes it.
  BOOST_TEST(claim(10, t0 + 5s).size() == 1u);
  counts_agree("limited claims");
}

BOOST_FIXTURE_TEST_CASE(a_queue_limit_caps_every_kind_of_its_queue, fixture) {
  const std::vector<jobs::concurrency_limit> limits{{"", "default", 3, ""}};
  for (int i = 0; i < 6; ++i) add(i % 2 ? "a" : "b", i % 3);  // three priority levels
  auto got = claim_under(*db, 10, limits, t0 + 1s);
  BOOST_REQUIRE_EQUAL(got.size(), 3u);
  BOOST_TEST(got.front().priority == 0);  // claim order still holds under limits
  BOOST_TEST(claim_under(*db, 10, limits, t0 + 2s).empty());
  auto use = db->limit_usage(limits, t0 + 2s);
  BOOST_TEST(use.at(0).running[""] == 3);
  BOOST_TEST(use.at(0).waiting == 3);
  counts_agree("queue limit");
}

BOOST_FIXTURE_TEST_CASE(a_partitioned_limit_runs_one_per_user_and_passes_over_the_rest, fixture) {
  const std::vector<jobs::concurrency_limit> limits{{"gen", "", 1, "payload.user_id"}};
  for (auto user : {1, 1, 1, 2, 2, 3}) {
    jobs::new_job j;
    j.kind = "gen";
    j.payload = R"({"user_id": )" + std::to_string(user) + "}";
    add(j, t0);
  }
  auto got = claim_under(*db, 10, limits, t0 + 1s);
  std::set<std::string> users;
  for (auto& c : got) BOOST_TEST(users.insert(c.payload).second, "two jobs of " << c.payload);
  BOOST_TEST(got.size() == 3u);
  BOOST_TEST(claim_under(*db, 10, limits, t0 + 2s).empty());
  auto use = db->limit_usage(limits, t0 + 2s);
  BOOST_TEST(use.at(0).running.size() == 3u);
  BOOST_TEST(use.at(0).running["1"] == 1);
  BOOST_TEST(use.at(0).waiting == 3);
  counts_agree("partitioned limit");
}

BOOST_FIXTURE_TEST_CASE(concurrent_claimers_never_run_more_than_the_limit, fixture) {
  if (test::memory_backend()) {
    BOOST_TEST_MESSAGE("not on a shared-cache in-memory database: concurrent connections");
    return;
  }
  const std::vector<jobs::concurrency_limit> limits{{"gpu", "", 3, ""}};
  for (int i = 0; i < 600; ++i) add("gpu");
  // Four nodes claim and complete as fast as they can; a third watches what runs. Without the
  // claim's lock on PostgreSQL, two claims counting at once each saw room for the same slots.
  std::atomic<bool> stop{false};
  std::atomic<long long> most{0}, claimed{0};
  auto node = [&](std::string worker) {
    auto s = store::open(scratch.url());
    std::vector<jobs::claimed_job> mine;
    for (int round = 0; round < 150 && !stop; ++round) {
      std::vector<jobs::completion> batch;
      const auto at = t0 + std::chrono::milliseconds(round);
      // Complete half of what runs here, then claim again.
      for (std::size_t i = 0; i < mine.size() / 2 + (round % 2); ++i)
        if (i < mine.size()) batch.push_back(done(mine[i], transition::to::completed, at));
      std::erase_if(mine, [&](auto& c) {
        return std::any_of(batch.begin(), batch.end(), [&](auto& d) { return d.id == c.id; });
      });
      auto r = s->complete_and_claim(batch, {.queue = "default", .limit = 3, .worker = worker,
                                             .now = at + 1s, .lease_until = at + 60s,
                                             .limits = limits});
      claimed += static_cast<long long>(r.claimed.size());
      mine.insert(mine.end(), r.claimed.begin(), r.claimed.end());
    }
  };
  std::thread watcher([&] {
    auto s = test::raw_session(scratch.url());
    while (!stop) {
      long long n = 0;
      *s << "SELECT COUNT(*) FROM running", soci::into(n);
      long long seen = most;
      while (n > seen && !most.compare_exchange_weak(seen, n)) {
      }
    }
  });
  std::vector<std::thread> nodes;
  for (auto w : {"w1", "w2", "w3", "w4"}) nodes.emplace_back(node, w);
  for (auto& t : nodes) t.join();
  stop = true;
  watcher.join();
  BOOST_TEST(most.load() <= 3);
  BOOST_TEST(most.load() >= 2);  // both took jobs: the limit, not the test, bounded them
  BOOST_TEST(claimed.load() > 50);
  counts_agree("concurrent limited claims");
}
