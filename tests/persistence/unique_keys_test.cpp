// The unique-key contract (jobs/unique.hpp) through every transition, on each store (run once per
// backend, like the conformance suite): a key is held in its job's chosen states, across retries,
// snoozes, lease rescues and DLQ requeues, and is free exactly when its job leaves those states.
#define BOOST_TEST_MODULE unique_keys
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "jobs/unique.hpp"
#include "persistence/store.hpp"
#include "tests/support/printers.hpp"
#include "tests/support/scratch_db.hpp"

using namespace spool;
using namespace std::chrono_literals;
using jobs::transition;

namespace {

struct fixture {
  test::scratch_db scratch;
  std::unique_ptr<store::store> db = store::open(scratch.url());
  jobs::time_point t0 = jobs::now();

  fixture() { db->migrate(); }

  static jobs::new_job keyed(std::string key, std::optional<jobs::time_point> run_at = {}) {
    jobs::new_job j;
    j.kind = "k";
    j.unique_key = std::move(key);
    j.run_at = run_at;
    return j;
  }
  jobs::enqueue_result add(const jobs::new_job& j, jobs::time_point at) {
    return db->insert(std::span(&j, 1), at).front();
  }
  // Enqueues `key` at `at`: the id of the job that holds it afterwards, and whether it is new.
  jobs::enqueue_result again(const std::string& key, jobs::time_point at) { return add(keyed(key), at); }
  jobs::claimed_job claim_one(jobs::time_point at) {
    auto got = db->claim("default", 1, "w1", at, at + 30s);
    BOOST_REQUIRE_EQUAL(got.size(), 1u);
    return got.front();
  }
  void finish(const jobs::claimed_job& c, transition::to to, jobs::time_point at,
              jobs::time_point run_at = {}) {
    transition t;
    t.next = to;
    t.at = at;
    t.run_at = run_at;
    t.attempt = to == transition::to::requeue ? c.attempt - 1 : c.attempt;
    if (to == transition::to::retry || to == transition::to::dead)
      t.error = jobs::error_entry{c.attempt, at, "boom"};
    if (to == transition::to::dead) t.note = "boom";
    std::vector<jobs::completion> batch{{c.id, c.lease, t}};
    BOOST_TEST(db->complete(batch).empty());
  }
  jobs::state state_of(jobs::job_id id, jobs::time_point at) { return db->get(id, at)->st; }
  // The key is held by `holder`: a new enqueue is a duplicate naming it.
  void held_by(const std::string& key, jobs::job_id holder, jobs::time_point at) {
    auto r = again(key, at);
    BOOST_TEST(r.duplicate);
    BOOST_TEST(r.id == holder);
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_key_is_held_from_enqueue_through_retries_and_snoozes_until_completion, fixture) {
  // scheduled
  const auto first = add(keyed("K", t0 + 10s), t0);
  BOOST_REQUIRE(!first.duplicate);
  held_by("K", first.id, t0);
  // available
  held_by("K", first.id, t0 + 11s);
  // running
  auto c = claim_one(t0 + 11s);
  BOOST_TEST(c.id == first.id);
  held_by("K", first.id, t0 + 12s);
  // retrying (the bug of issue 18: a failed job waiting again did not take its key back)
  finish(c, transition::to::retry, t0 + 12s, t0 + 20s);
  BOOST_TEST(state_of(first.id, t0 + 13s) == jobs::state::retrying);
  held_by("K", first.id, t0 + 13s);
  // snoozed (requeue), then running again
  c = claim_one(t0 + 21s);
  finish(c, transition::to::requeue, t0 + 21s, t0 + 30s);
  held_by("K", first.id, t0 + 22s);
  c = claim_one(t0 + 31s);
  held_by("K", first.id, t0 + 31s);
  // completed: free at once
  finish(c, transition::to::completed, t0 + 32s);
  auto next = again("K", t0 + 32s);
  BOOST_TEST(!next.duplicate);
  BOOST_TEST(next.id != first.id);
  held_by("K", next.id, t0 + 33s);
}

BOOST_FIXTURE_TEST_CASE(a_rescued_job_keeps_its_key, fixture) {
  const auto first = add(keyed("R"), t0);
  auto c = claim_one(t0);
  auto lost = db->expired(t0 + 31s, 10);
  BOOST_REQUIRE_EQUAL(lost.size(), 1u);
  // What the rescuer applies: a failed attempt under the expired lease.
  finish(c, transition::to::retry, t0 + 31s, t0 + 40s);
  held_by("R", first.id, t0 + 32s);
  c = claim_one(t0 + 41s);
  BOOST_TEST(c.attempt == 2);
  held_by("R", first.id, t0 + 41s);
}

BOOST_FIXTURE_TEST_CASE(dead_cancelled_and_purged_jobs_free_their_keys, fixture) {
  // dead
  auto a = add(keyed("D"), t0);
  finish(claim_one(t0), transition::to::dead, t0 + 1s);
  BOOST_TEST(!again("D", t0 + 2s).duplicate);
  // cancelled by its handler
  auto b = add(keyed("C"), t0);
  BOOST_REQUIRE(!b.duplicate);
  auto waiting = db->claim("default", 10, "w1", t0 + 2s, t0 + 30s);  // the "D" job and b
  for (auto& c : waiting)
    finish(c, c.id == b.id ? transition::to::cancelled : transition::to::completed, t0 + 3s);
  BOOST_TEST(!again("C", t0 + 4s).duplicate);
  // cancelled by an operator while waiting
  auto e = add(keyed("O", t0 + 1h), t0);
  BOOST_TEST(db->cancel(e.id, t0) == store::cancel_result::cancelled);
  BOOST_TEST(!again("O", t0 + 1s).duplicate);
  (void)a;
}

BOOST_FIXTURE_TEST_CASE(a_requeued_dead_job_takes_its_key_back_unless_another_holds_it, fixture) {
  const auto a = add(keyed("Q"), t0);
  finish(claim_one(t0), transition::to::dead, t0 + 1s);
  store::dead_filter one;
  one.id = a.id;
  BOOST_TEST(db->requeue_dead(one, t0 + 2s) == 1);
  held_by("Q", a.id, t0 + 3s);

  // Dead again; meanwhile job b takes the key: a stays dead, b keeps the key.
  finish(claim_one(t0 + 3s), transition::to::dead, t0 + 4s);
  const auto b = again("Q", t0 + 5s);
  BOOST_REQUIRE(!b.duplicate);
  BOOST_TEST(db->requeue_dead(one, t0 + 6s) == 0);
  BOOST_TEST(state_of(a.id, t0 + 6s) == jobs::state::dead);
  held_by("Q", b.id, t0 + 7s);

  // Once b is done the key is free again, and a requeue takes it.
  finish(claim_one(t0 + 8s), transition::to::completed, t0 + 9s);
  BOOST_TEST(db->requeue_dead(one, t0 + 10s) == 1);
  held_by("Q", a.id, t0 + 11s);
}

BOOST_FIXTURE_TEST_CASE(two_dead_jobs_with_one_key_are_not_both_requeued, fixture) {
  const auto a = add(keyed("T"), t0);
  finish(claim_one(t0), transition::to::dead, t0 + 1s);
  const auto b = again("T", t0 + 2s);
  BOOST_REQUIRE(!b.duplicate);
  finish(claim_one(t0 + 2s), transition::to::dead, t0 + 3s);
  BOOST_TEST(db->requeue_dead({}, t0 + 4s) == 1);
  const bool a_back = state_of(a.id, t0 + 5s) == jobs::state::available;
  const bool b_back = state_of(b.id, t0 + 5s) == jobs::state::available;
  BOOST_TEST(a_back != b_back);
  held_by("T", a_back ? a.id : b.id, t0 + 5s);
  // The one left behind is purged; its key row (if it named it) goes with it.
  BOOST_TEST(db->purge_dead({}) == 1);
  held_by("T", a_back ? a.id : b.id, t0 + 6s);
}

BOOST_FIXTURE_TEST_CASE(unique_for_holds_the_key_after_completion_for_that_long, fixture) {
  auto j = keyed("F");
  j.unique_for = 60s;
  const auto a = add(j, t0);
  finish(claim_one(t0), transition::to::completed, t0 + 1s);
  held_by("F", a.id, t0 + 2s);
  held_by("F", a.id, t0 + 60s);
  const auto b = again("F", t0 + 61s);
  BOOST_TEST(!b.duplicate);
  // A job that ends otherwise frees it at once, unique_for or not.
  auto k = keyed("G");
  k.unique_for = 60s;
  add(k, t0);
  auto claimed = db->claim("default", 10, "w1", t0 + 62s, t0 + 90s);
  for (auto& c : claimed) finish(c, transition::to::dead, t0 + 62s);
  BOOST_TEST(!again("G", t0 + 63s).duplicate);
}

BOOST_FIXTURE_TEST_CASE(chosen_states_hold_the_key_only_there, fixture) {
  // Held while waiting only (the AI kinds' debounce): a running job leaves the key free.
  auto j = keyed("W");
  j.unique_states = jobs::waiting_states;
  const auto a = add(j, t0);
  BOOST_TEST(add(j, t0).duplicate);
  auto c = claim_one(t0);
  const auto b = add(j, t0 + 1s);
  BOOST_TEST(!b.duplicate);
  // a fails and waits again, but b holds the key now: a waits without it.
  finish(c, transition::to::retry, t0 + 2s, t0 + 1h);
  held_by("W", b.id, t0 + 3s);
  (void)a;

  // Held while running only: a scheduled job does not hold it yet.
  auto r = keyed("X", t0 + 1h);
  r.unique_states = jobs::unique_bit(jobs::state::running);
  const auto first = add(r, t0);
  const auto second = add(r, t0);
  BOOST_TEST(!second.duplicate);
  BOOST_TEST(second.id != first.id);
}

BOOST_FIXTURE_TEST_CASE(a_batch_takes_a_key_once, fixture) {
  std::vector<jobs::new_job> batch{keyed("B"), keyed("B"), keyed("other"), keyed("B")};
  auto r = db->insert(batch, t0);
  BOOST_TEST(!r[0].duplicate);
  BOOST_TEST(r[1].duplicate);
  BOOST_TEST(r[1].id == r[0].id);
  BOOST_TEST(!r[2].duplicate);
  BOOST_TEST(r[3].duplicate);
  // A job scheduled later that does not hold its key while scheduled leaves it to the next one.
  auto later = keyed("S", t0 + 1h);
  later.unique_states = jobs::unique_bit(jobs::state::available);
  std::vector<jobs::new_job> two{later, keyed("S")};
  auto s = db->insert(two, t0);
  BOOST_TEST(!s[0].duplicate);
  BOOST_TEST(!s[1].duplicate);
  held_by("S", s[1].id, t0 + 1s);
}

BOOST_FIXTURE_TEST_CASE(jobs_are_listed_by_unique_key, fixture) {
  const auto a = add(keyed("L"), t0);
  finish(claim_one(t0), transition::to::completed, t0 + 1s);
  const auto b = again("L", t0 + 2s);
  again("other", t0 + 2s);
  store::list_filter f;
  f.unique_key = "L";
  auto found = db->list(f, t0 + 3s);
  BOOST_REQUIRE_EQUAL(found.size(), 2u);
  BOOST_TEST(found[0].id == b.id);
  BOOST_TEST(found[1].id == a.id);
  BOOST_TEST(*found[0].unique_key == "L");
}

BOOST_FIXTURE_TEST_CASE(concurrent_enqueues_of_one_key_make_one_job, fixture) {
  // 50 connections, each enqueueing the same key at once, several rounds: exactly one job per
  // round, and everybody is told its id.
  constexpr int writers = 50;
  for (int round = 0; round < 3; ++round) {
    const std::string key = "race-" + std::to_string(round);
    std::vector<std::unique_ptr<store::store>> conns;
    for (int i = 0; i < writers; ++i) conns.push_back(store::open(scratch.url()));
    std::vector<jobs::enqueue_result> results(writers);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < writers; ++i)
      threads.emplace_back([&, i] {
        ready++;
        while (ready.load() < writers) std::this_thread::yield();
        auto j = keyed(key);
        results[i] = conns[i]->insert(std::span(&j, 1), t0).front();
      });
    for (auto& t : threads) t.join();
    int fresh = 0;
    for (auto& r : results) fresh += r.duplicate ? 0 : 1;
    BOOST_TEST(fresh == 1);
    for (auto& r : results) BOOST_TEST(r.id == results.front().id);
    store::list_filter f;
    f.unique_key = key;
    BOOST_TEST(db->list(f, t0).size() == 1u);
  }
}

BOOST_FIXTURE_TEST_CASE(fifty_processes_enqueueing_one_key_make_one_job, fixture) {
  // As nodes do: 50 processes, each with its own connection, enqueue the same key at one instant.
  constexpr int writers = 50;
  const std::string key = "race-processes";
  const auto start = std::chrono::system_clock::now() + 1500ms;  // all forked and connected by then
  std::vector<std::pair<pid_t, int>> children;  // pid, read end of its pipe
  for (int i = 0; i < writers; ++i) {
    int fds[2];
    BOOST_REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {  // the child: no Boost.Test, no destructors of the parent's objects
      ::close(fds[0]);
      int code = 1;
      try {
        auto conn = store::open(scratch.url());
        std::this_thread::sleep_until(start);
        auto j = keyed(key);
        const auto r = conn->insert(std::span(&j, 1), t0).front();
        const std::string line = std::to_string(r.id) + " " + (r.duplicate ? "1" : "0") + "\n";
        code = ::write(fds[1], line.data(), line.size()) == static_cast<ssize_t>(line.size()) ? 0 : 1;
      } catch (...) {
      }
      ::_exit(code);
    }
    ::close(fds[1]);
    children.emplace_back(pid, fds[0]);
  }
  int fresh = 0;
  std::vector<long long> ids;
  for (auto& [pid, fd] : children) {
    char buf[64] = {};
    const auto n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    int status = 0;
    ::waitpid(pid, &status, 0);
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0), "writer " << pid << " failed");
    long long id = 0;
    int duplicate = 1;
    if (n > 0 && std::sscanf(buf, "%lld %d", &id, &duplicate) == 2) {
      ids.push_back(id);
      fresh += duplicate ? 0 : 1;
    }
  }
  BOOST_TEST(fresh == 1);
  BOOST_REQUIRE_EQUAL(ids.size(), static_cast<std::size_t>(writers));
  for (auto id : ids) BOOST_TEST(id == ids.front());
  store::list_filter f;
  f.unique_key = key;
  BOOST_TEST(db->list(f, t0).size() == 1u);
}
