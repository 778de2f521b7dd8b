// Several `spool run` processes on one PostgreSQL database: they share the work exactly once,
// survive the loss of a node and of the database, elect one leader, and store user strings as
// data. Each test case gets its own database (on the shared test server) or its own server.
#define BOOST_TEST_MODULE e2e_postgres
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <csignal>
#include <map>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>
#include <thread>

#include "tests/e2e/postgres_server.hpp"
#include "tests/e2e/sandbox.hpp"
#include "tests/e2e/seed.hpp"
#include "tests/support/scratch_db.hpp"

using namespace spool::e2e;

namespace {

std::map<job_id, int> count_events_by_job(const std::string& log, std::string_view event) {
  std::map<job_id, int> out;
  for (auto& e : events(log, event)) ++out[int_field(e, "job_id")];
  return out;
}

// The leader among the alive nodes that `spool nodes` lists, or "".
std::string alive_leader(sandbox& sb) {
  auto r = sb.spool({"nodes", "--json"});
  if (r.status != 0) return "";
  const auto doc = boost::json::parse(r.out);
  for (auto& n : doc.at("nodes").as_array()) {
    auto& o = n.as_object();
    if (o.at("leader").as_bool() && o.at("alive").as_bool()) return std::string(o.at("id").as_string());
  }
  return "";
}

// The worker id a runtime logged at start.
std::string worker_of(process& p) {
  std::string id;
  poll_until(
      [&] {
        auto started = events(p.err(), "runtime_started");
        if (!started.empty()) id = string_field(started.front(), "worker");
        return !id.empty();
      },
      30s);
  return id;
}

int http_port_of(process& p) {
  int port = 0;
  wait_until(
      [&] {
        auto l = events(p.err(), "http_listening");
        if (!l.empty()) port = static_cast<int>(int_field(l.front(), "port"));
        return port > 0;
      },
      30s, "the runtime never logged http_listening");
  return port;
}

}  // namespace

BOOST_AUTO_TEST_CASE(three_nodes_complete_20000_jobs_each_exactly_once) {
  constexpr int jobs = 20000;
  spool::test::scratch_db db(true);
  sandbox sb;
  sb.use_db(db.url());
  const auto ids = seed_jobs(sb.db_url(), std::vector<seed_job>(jobs, seed_job{"noop"}));
  BOOST_REQUIRE_EQUAL(ids.size(), static_cast<std::size_t>(jobs));
  std::vector<std::shared_ptr<process>> nodes;
  for (auto name : {"node-a", "node-b", "node-c"}) nodes.push_back(sb.start_runtime(name, {"--poll", "0.2"}));
  wait_until([&] { return sb.states()["completed"] == jobs; }, 120s,
             [&] { return "not every job completed: " + sb.stats_text() + "\n" + sb.runtimes_text(); });
  sb.stop_runtimes({nodes[0].get(), nodes[1].get(), nodes[2].get()});

  for (auto& [state, n] : sb.states()) BOOST_TEST(n == (state == "completed" ? jobs : 0), state << ": " << n);
  std::map<job_id, int> started;
  for (auto& node : nodes) {
    const auto log = node->err();
    const auto mine = count_events_by_job(log, "job_succeeded");
    BOOST_TEST(mine.size() > 0u, node->err_path().filename() << " did no work");
    BOOST_TEST_MESSAGE(node->err_path().filename() << ": " << mine.size() << " jobs");
    for (auto& [id, n] : count_events_by_job(log, "job_started")) started[id] += n;
    BOOST_TEST(count_events(log, "completion_rejected") == 0u);
  }
  std::size_t not_once = 0;
  for (auto id : ids) not_once += started[id] != 1;
  BOOST_TEST(not_once == 0u, not_once << " jobs did not start exactly once");
}

BOOST_AUTO_TEST_CASE(a_killed_leader_is_replaced_and_its_jobs_run_again_on_the_others) {
  constexpr int jobs = 600;
  constexpr auto lease = 3s;
  spool::test::scratch_db db(true);
  sandbox sb;
  sb.use_db(db.url());
  sb.write_config(R"({"lease_s": 3, "rescue_interval_s": 0.5, "leader_ttl_s": 1.5, "poll_interval_s": 0.2})");
  seed_jobs(sb.db_url(), std::vector<seed_job>(jobs, seed_job{"sleep", R"({"ms":300})"}));
  std::map<std::string, std::shared_ptr<process>> by_worker;
  for (auto name : {"node-a", "node-b", "node-c"}) {
    auto p = sb.start_runtime(name, {"--queue", "default=20"});
    by_worker[worker_of(*p)] = p;
  }
  std::string leader;
  wait_until([&] { return !(leader = alive_leader(sb)).empty(); }, 30s, "no leader was elected");
  BOOST_REQUIRE(by_worker.count(leader));
  auto victim = by_worker.at(leader);
  wait_until([&] { return count_events(victim->err(), "job_succeeded") >= 20; }, 60s,
             "the leader did not get to work");

  victim->signal(SIGKILL);
  victim->wait_for(10s);
  const auto killed_at = steady::now();
  const auto log = victim->err();
  std::set<job_id> unfinished;
  for (auto& [id, _] : count_events_by_job(log, "job_started")) unfinished.insert(id);
  for (auto& [id, _] : count_events_by_job(log, "job_succeeded")) unfinished.erase(id);
  BOOST_TEST_MESSAGE(unfinished.size() << " jobs were running on the killed leader");

  std::vector<process*> survivors;
  for (auto& [w, p] : by_worker)
    if (p != victim) survivors.push_back(p.get());
  // Another node takes the leadership over within its TTL plus one heartbeat round.
  std::string next;
  wait_until([&] { return !(next = alive_leader(sb)).empty() && next != leader; }, 10s,
             "no other node became leader");
  const auto takeover = steady::now() - killed_at;
  BOOST_TEST_MESSAGE("new leader after " << std::chrono::duration<double>(takeover).count() << " s");
  BOOST_TEST(takeover < 1500ms + 500ms + 1500ms, "takeover took too long");

  // Its running jobs start again on the survivors within twice the lease.
  auto restarted = [&] {
    std::set<job_id> seen;
    for (auto* p : survivors)
      for (auto& [id, _] : count_events_by_job(p->err(), "job_started"))
        if (unfinished.count(id)) seen.insert(id);
    return seen.size() == unfinished.size();
  };
  wait_until(restarted, 2 * lease, "the killed node's running jobs did not run again within 2x the lease");
  BOOST_TEST_MESSAGE("rerun within " << std::chrono::duration<double>(steady::now() - killed_at).count() << " s");

  wait_until([&] { return sb.states()["completed"] == jobs; }, 120s,
             [&] { return "not every job completed: " + sb.stats_text() + "\n" + sb.runtimes_text(); });
  sb.stop_runtimes(survivors);
  for (auto& [state, n] : sb.states()) BOOST_TEST(n == (state == "completed" ? jobs : 0), state << ": " << n);
}

// Each job is a `chain` with one follow-up: the rejected completions' follow-ups are dropped with
// them, so every job has exactly one follow-up in the end (#19: follow-ups commit with the success).
BOOST_AUTO_TEST_CASE(a_paused_nodes_late_completions_are_rejected_with_their_follow_ups) {
  constexpr int jobs = 60;
  spool::test::scratch_db db(true);
  sandbox sb;
  sb.use_db(db.url());
  sb.write_config(R"({"lease_s": 1, "rescue_interval_s": 0.3, "leader_ttl_s": 1, "poll_interval_s": 0.2})");
  const auto ids = seed_jobs(sb.db_url(), std::vector<seed_job>(jobs, seed_job{"chain", R"({"ms":1500})"}));
  auto stale = sb.start_runtime("stale", {"--queue", "default=10"});
  wait_until([&] { return count_events(stale->err(), "job_started") >= 10; }, 30s, "stale node never started jobs");
  stale->signal(SIGSTOP);  // a GC pause, a frozen VM: its leases run out while its handlers "run"
  auto other = sb.start_runtime("other", {"--queue", "default=100"});
  wait_until([&] { return sb.states()["completed"] >= 2 * (jobs - 10); }, 60s,
             [&] { return "the other node did not take the work over: " + sb.stats_text(); });
  stale->signal(SIGCONT);
  wait_until([&] { return count_events(stale->err(), "completion_rejected") >= 1; }, 30s,
             [&] { return "no completion of the resumed node was rejected\n" + sb.runtimes_text(); });
  wait_until([&] { return sb.states()["completed"] == 2 * jobs; }, 60s,
             [&] { return "not every job completed: " + sb.stats_text(); });
  sb.stop_runtimes({stale.get(), other.get()});
  // Each rejected job was completed by the node that held it, on its second attempt.
  for (auto& [id, _] : count_events_by_job(stale->err(), "completion_rejected")) {
    auto j = sb.show(id);
    BOOST_TEST(string_field(j, "state") == "completed");
    BOOST_TEST(int_field(j, "attempt") == 2, "job " << id);
  }
  for (auto& [state, n] : sb.states()) BOOST_TEST(n == (state == "completed" ? 2 * jobs : 0), state << ": " << n);
  std::map<job_id, int> follow_ups;
  for (auto& j : sb.list({"--kind", "noop"})) ++follow_ups[int_field(j.at("payload").as_object(), "parent")];
  for (auto id : ids) BOOST_TEST(follow_ups[id] == 1, "job " << id << " has " << follow_ups[id] << " follow-ups");
  BOOST_TEST(follow_ups.size() == ids.size());
}

BOOST_AUTO_TEST_CASE(a_database_restart_mid_run_loses_nothing_and_needs_no_node_restart) {
  constexpr int jobs = 3000;
  postgres_server server;
  sandbox sb;
  sb.use_db(server.url());
  seed_jobs(sb.db_url(), std::vector<seed_job>(jobs, seed_job{"sleep", R"({"ms":20})"}));
  auto a = sb.start_runtime("node-a", {"--queue", "default=50", "--poll", "0.2"});
  auto b = sb.start_runtime("node-b", {"--queue", "default=50", "--poll", "0.2"});
  const int port = http_port_of(*a);
  wait_until([&] { return sb.states()["completed"] >= 500; }, 60s, "no progress before the restart");

  server.stop();
  // While the database is down: the node is not ready, and keeps its in-flight work.
  auto probe = run("/usr/bin/curl", {"-s", "-o", "/dev/null", "-w", "%{http_code}",
                                     "http://127.0.0.1:" + std::to_string(port) + "/readyz"},
                   {sb.dir(), sb.dir() / "readyz.out", sb.dir() / "readyz.err", {}}, 30s);
  BOOST_TEST(probe.out == "503", "readyz answered " << probe.out << " while the database was down");
  std::this_thread::sleep_for(3s);
  server.start();

  wait_until([&] { return sb.states()["completed"] == jobs; }, 120s,
             [&] { return "not every job completed after the restart: " + sb.stats_text() + "\n" + sb.runtimes_text(); });
  BOOST_TEST(a->running(), "node-a exited");
  BOOST_TEST(b->running(), "node-b exited");
  sb.stop_runtimes({a.get(), b.get()});
  for (auto& [state, n] : sb.states()) BOOST_TEST(n == (state == "completed" ? jobs : 0), state << ": " << n);
  for (auto* p : {a.get(), b.get()})
    BOOST_TEST_MESSAGE(p->err_path().filename() << ": " << count_events(p->err(), "completion_flush_failed")
                                                << " completion_flush_failed, " << count_events(p->err(), "claim_failed")
                                                << " claim_failed, " << count_events(p->err(), "listener_failed")
                                                << " listener_failed");
}

BOOST_AUTO_TEST_CASE(sql_in_user_supplied_fields_is_stored_verbatim_or_rejected) {
  spool::test::scratch_db db(true);
  sandbox sb;
  sb.use_db(db.url());
  const std::string payload = R"({"text":"'; DROP TABLE jobs; --","q":"\"); DELETE FROM ready; --"})";
  const std::string key = "k'); DELETE FROM ready; --";
  const auto id = sb.enqueue("noop", {"--payload", payload, "--unique-key", key});
  // The payload comes back as the JSON it was: compare the documents.
  const auto sent = boost::json::serialize(boost::json::parse(payload));
  auto j = sb.show(id);
  BOOST_TEST(boost::json::serialize(j.at("payload")) == sent);
  BOOST_TEST(string_field(j, "unique_key") == key);
  // Kinds and queues are names: SQL in them is refused with a clear error, and nothing changes.
  auto bad_kind = sb.spool({"enqueue", "noop'; DROP TABLE jobs; --"});
  BOOST_TEST(bad_kind.status == 2);
  BOOST_TEST(bad_kind.err.find("kind") != std::string::npos, bad_kind.err);
  auto bad_queue = sb.spool({"enqueue", "noop", "--queue", "q'); DELETE FROM ready; --"});
  BOOST_TEST(bad_queue.status == 2);
  BOOST_TEST(bad_queue.err.find("queue") != std::string::npos, bad_queue.err);
  BOOST_TEST(sb.states()["available"] == 1);
  BOOST_TEST(boost::json::serialize(sb.show(id).at("payload")) == sent);
}

namespace {
// `spool queues list --json` by name.
std::map<std::string, boost::json::object> queues_by_name(sandbox& sb) {
  std::map<std::string, boost::json::object> out;
  const auto doc = boost::json::parse(sb.spool_ok({"queues", "list", "--json"}));
  for (auto& q : doc.at("queues").as_array()) out[std::string(q.at("name").as_string())] = q.as_object();
  return out;
}
}  // namespace

// Issue 20: `spool queues pause` stops both nodes' claims within their poll interval, a node
// restarted meanwhile claims nothing either, and `spool queues resume` lets them run the jobs.
BOOST_AUTO_TEST_CASE(a_queue_paused_from_the_cli_stops_every_node_and_outlives_a_restart) {
  spool::test::scratch_db db(true);
  sandbox sb;
  sb.use_db(db.url());
  sb.write_config(R"({"poll_interval_s": 0.2, "leader_ttl_s": 1.5})");
  auto a = sb.start_runtime("node-a");
  auto b = sb.start_runtime("node-b");
  const auto warm = sb.enqueue("noop");
  sb.wait_for_state(warm, "completed", 10s);
  wait_until([&] { return queues_by_name(sb)["default"].at("served_by").as_int64() == 2; }, 10s,
             "both nodes do not show as serving the queue");

  sb.spool_ok({"queues", "pause", "default"});
  auto listed = queues_by_name(sb);
  BOOST_TEST(listed.at("default").at("paused").as_bool());
  BOOST_TEST(listed.at("default").at("paused_since").is_string());
  // Each node applies it within its poll interval (0.2 s); the jobs enqueued after that wait.
  wait_until([&] { return count_events(a->err(), "queue_paused") == 1 && count_events(b->err(), "queue_paused") == 1; },
             2s, [&] { return "a node did not apply the pause within 2 s\n" + sb.runtimes_text(); });
  std::vector<job_id> held;
  for (int i = 0; i < 10; ++i) held.push_back(sb.enqueue("noop"));
  std::this_thread::sleep_for(1s);  // five poll intervals: the nodes would have claimed by now
  sb.stop_runtime(*b);
  b = sb.start_runtime("node-b2");  // a restart reads the pause before it claims
  wait_until([&] { return count_events(b->err(), "queue_paused") == 1; }, 10s,
             [&] { return "the restarted node did not read the pause\n" + sb.runtimes_text(); });
  std::this_thread::sleep_for(600ms);
  for (auto id : held) BOOST_TEST(string_field(sb.show(id), "state") == "available", "job " << id);

  sb.spool_ok({"queues", "resume", "default"});
  for (auto id : held) sb.wait_for_state(id, "completed", 10s);
  BOOST_TEST(!queues_by_name(sb).at("default").at("paused").as_bool());
  sb.stop_runtimes({a.get(), b.get()});
}

// Issue 20: a kind limited to 4 runs at most 4 at once across three nodes that together would run
// 6 (each serves its queue with concurrency 2, so the 4 can only be reached across nodes).
// Each handler's run, from its job_started to its job_succeeded log line (inside the time its
// job holds a slot: from the claim's commit to the completion's), is an interval; the most that
// overlap is what ran at once.
BOOST_AUTO_TEST_CASE(a_cluster_wide_concurrency_limit_holds_across_three_nodes) {
  constexpr int jobs = 60;
  spool::test::scratch_db db(true);
  sandbox sb;
  sb.use_db(db.url());
  sb.write_config(R"({"poll_interval_s": 0.2, "limits": [{"kind": "sleep", "concurrency": 4}]})");
  seed_jobs(sb.db_url(), std::vector<seed_job>(jobs, seed_job{"sleep", R"({"ms":150})"}));
  std::vector<std::shared_ptr<process>> nodes;
  for (auto name : {"node-a", "node-b", "node-c"}) nodes.push_back(sb.start_runtime(name, {"--queue", "default=2"}));
  // While they work, the limit shows as full with jobs waiting on it.
  wait_until([&] { return count_events(nodes[0]->err(), "job_succeeded") + count_events(nodes[1]->err(), "job_succeeded") +
                          count_events(nodes[2]->err(), "job_succeeded") >= 8; },
             60s, "the nodes did not get to work");
  const auto stats = boost::json::parse(sb.spool_ok({"stats", "--json"})).as_object();
  const auto& limit = stats.at("limits").at(0).as_object();
  BOOST_TEST(limit.at("name").as_string() == "kind:sleep");
  BOOST_TEST(limit.at("running").as_int64() <= 4);
  wait_until([&] { return sb.states()["completed"] == jobs; }, 120s,
             [&] { return "not every job completed: " + sb.stats_text() + "\n" + sb.runtimes_text(); });
  std::vector<process*> all;
  for (auto& p : nodes) all.push_back(p.get());
  sb.stop_runtimes(all);

  std::vector<std::pair<std::string, int>> edges;  // (ts, +1 start / -1 end): ends sort first
  int nodes_that_ran = 0;
  for (auto& p : nodes) {
    const auto log = p->err();
    const auto started = events(log, "job_started");
    nodes_that_ran += started.empty() ? 0 : 1;
    for (auto& e : started) edges.emplace_back(string_field(e, "ts"), 1);
    for (auto& e : events(log, "job_succeeded")) edges.emplace_back(string_field(e, "ts"), -1);
  }
  BOOST_REQUIRE_EQUAL(edges.size(), 2u * jobs);
  std::sort(edges.begin(), edges.end());
  int now = 0, most = 0;
  for (auto& [_, d] : edges) most = std::max(most, now += d);
  BOOST_TEST_MESSAGE("at most " << most << " ran at once, on " << nodes_that_ran << " nodes");
  BOOST_TEST(most <= 4);
  BOOST_TEST(most >= 3);  // the nodes together did run several at once
  BOOST_TEST(nodes_that_ran >= 2);
}
