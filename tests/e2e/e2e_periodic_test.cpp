// Periodic jobs through the real binary: a schedule from the config file enqueues one job per
// tick, `spool periodic list` shows it, and neither a clean restart nor kill -9 enqueues a tick
// twice.
#define BOOST_TEST_MODULE e2e_periodic
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <set>
#include <thread>

#include "tests/e2e/sandbox.hpp"

using namespace spool::e2e;
using namespace std::chrono_literals;

namespace {

json::array periodic_list(sandbox& sb) {
  const auto out = sb.spool_ok({"periodic", "list", "--json"});
  boost::system::error_code ec;
  auto v = json::parse(out, ec);
  BOOST_REQUIRE_MESSAGE(!ec && v.is_array(), "spool periodic list --json printed: " << out);
  return v.as_array();
}

// Waits until schedule 0 has enqueued at least `ticks` jobs (of kind noop); returns them.
std::vector<json::object> wait_for_ticks(sandbox& sb, std::size_t ticks, process& rt) {
  const auto deadline = steady::now() + 30s;
  for (;;) {
    auto jobs = sb.list({"--kind", "noop"});
    if (jobs.size() >= ticks) return jobs;
    BOOST_REQUIRE_MESSAGE(steady::now() < deadline,
                          jobs.size() << " periodic jobs after 30 s, wanted " << ticks << "; log: "
                                      << error_summary(rt.err()));
    std::this_thread::sleep_for(100ms);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(ticks_are_enqueued_once_across_restarts_and_kills) {
  sandbox sb;
  sb.write_config(R"({"leader_ttl_s": 0.5, "periodic": [
    {"name": "beat", "cron": "@every 1s", "kind": "noop", "payload": {"from": "periodic"}},
    {"name": "nightly", "cron": "0 3 * * *", "timezone": "Europe/Berlin", "kind": "sleep"}]})");
  sb.spool_ok({"migrate"});
  const auto empty = periodic_list(sb);
  BOOST_REQUIRE_EQUAL(empty.size(), 2u);
  BOOST_TEST(empty[0].at("last_run").is_null());
  BOOST_TEST(empty[1].at("timezone").as_string() == "Europe/Berlin");

  auto first = sb.start_runtime("first");
  wait_for_ticks(sb, 2, *first);
  sb.stop_runtime(*first);
  auto second = sb.start_runtime("second");
  wait_for_ticks(sb, 4, *second);
  second->signal(SIGKILL);
  second->wait_for(10s);
  auto third = sb.start_runtime("third");
  auto jobs = wait_for_ticks(sb, 6, *third);
  sb.stop_runtime(*third);

  jobs = sb.list({"--kind", "noop"});
  std::set<std::string> keys;
  for (const auto& j : jobs) {
    const std::string key(j.at("unique_key").as_string());
    BOOST_TEST(key.starts_with("periodic:beat:"), key);
    BOOST_TEST(keys.insert(key).second, "tick " << key << " enqueued twice");
    BOOST_TEST(json::serialize(j.at("payload")) == R"({"from":"periodic"})");
  }
  const auto shown = periodic_list(sb);
  BOOST_TEST(shown[0].at("name").as_string() == "beat");
  BOOST_TEST(shown[0].at("last_job_id").as_int64() == jobs.front().at("id").as_int64());  // newest first
  BOOST_TEST(shown[1].at("last_job_id").is_null());
  const auto text = sb.spool_ok({"periodic", "list"});
  BOOST_TEST(text.find("beat") != std::string::npos, text);
  BOOST_TEST(text.find("Europe/Berlin") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(a_leader_change_between_two_nodes_enqueues_no_tick_twice) {
  sandbox sb;
  sb.write_config(R"({"leader_ttl_s": 0.5, "periodic": [{"name": "beat", "cron": "@every 1s", "kind": "noop"}]})");
  sb.spool_ok({"migrate"});
  // The first node takes the leadership; the second waits for it. kill -9 of the first hands
  // the schedule over once its leadership expires.
  auto a = sb.start_runtime("a");
  wait_for_ticks(sb, 1, *a);
  auto b = sb.start_runtime("b");
  wait_for_ticks(sb, 3, *a);
  a->signal(SIGKILL);
  a->wait_for(10s);
  const auto before = sb.list({"--kind", "noop"}).size();
  auto jobs = wait_for_ticks(sb, before + 3, *b);
  sb.stop_runtime(*b);
  jobs = sb.list({"--kind", "noop"});
  std::set<std::string> keys;
  for (const auto& j : jobs) {
    const std::string key(j.at("unique_key").as_string());
    BOOST_TEST(keys.insert(key).second, "tick " << key << " enqueued twice");
  }
  BOOST_TEST(count_events(b->err(), "periodic_enqueued") >= 3u, "node b never took the schedule over");
}
