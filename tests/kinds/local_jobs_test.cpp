// The AI kinds end to end with the default `local` backend: no model server anywhere.
#define BOOST_TEST_MODULE local_jobs
#include <boost/json/parse.hpp>

#include "http/api.hpp"
#include "kinds/ai/inference_metrics.hpp"
#include "kinds/ai/routes.hpp"
#include "tests/kinds/ai_harness.hpp"

using namespace spool;
using namespace spool::test;
namespace json = boost::json;

namespace {

constexpr int users = 50;
constexpr int per_user = 20;

const char* const texts[] = {
    "Went to the gym for a workout and felt great afterwards",
    "Team meeting about the project deadline, quite stressful",
    "Read two chapters of a book on distributed systems",
    "Dinner with friends at the new Italian place, lovely evening",
    "Booked a flight and a hotel for the holiday in Lisbon",
    "Watched a movie, the ending was disappointing",
    "Paid the electricity bill and reviewed the monthly budget",
    "Ordered new running shoes online",
};

std::string user_id(int u) { return "user-" + std::to_string(u); }
std::string activity_id(int u, int k) { return "act-" + std::to_string(u) + "-" + std::to_string(k); }

// Waits, polling the stores, until `done(stats, results)` holds; fails after `limit`.
template <class Done>
asio::awaitable<void> until(runtime::runtime& rt, kinds::ai::services& svc, Done done,
                            std::chrono::seconds limit, const char* what) {
  using counts = std::pair<store::stats, kinds::ai::results_store::totals>;
  co_await poll_until(
      [&rt, &svc]() -> asio::awaitable<counts> {
        auto stats = co_await spool::runtime::db_of(rt).run([](store::store& s) { return s.count(jobs::now()); });
        auto totals = co_await on_results(svc, [](kinds::ai::results_store& r) { return r.count(); });
        co_return counts{stats, totals};
      },
      [&done](const counts& c) { return done(c.first, c.second); },
      [what](const counts& c) {
        std::string states;
        for (auto& [st, n] : c.first.states) states += " " + st + "=" + std::to_string(n);
        return std::string("timed out waiting for ") + what + ";" + states +
               " results=" + std::to_string(c.second.results) + " profiles=" + std::to_string(c.second.profiles);
      },
      limit, 20ms);
}

std::int64_t state_count(const store::stats& s, const std::string& state) {
  auto it = s.states.find(state);
  return it == s.states.end() ? 0 : it->second;
}

bool idle(const store::stats& s) {
  for (auto st : {"scheduled", "available", "running", "retrying"})
    if (state_count(s, st) > 0) return false;
  return true;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_thousand_activities_of_fifty_users_end_in_results_and_one_fresh_profile_each) {
  ai_harness h;
  h.settings.queues = {{"default", 50}};
  h.settings.profiles.debounce_s = 0.2;
  h.settings.profiles.latest_n = 50;
  const auto started = std::chrono::steady_clock::now();
  h.run([&](runtime::runtime& rt, kinds::ai::services& svc) -> asio::awaitable<void> {
    // Interleaved across users, as a real stream would be, in batches of 100.
    std::vector<jobs::new_job> batch;
    for (int k = 0; k < per_user; ++k)
      for (int u = 0; u < users; ++u) {
        jobs::new_job j;
        j.kind = "activity_processing";
        j.payload = activity_payload(user_id(u), activity_id(u, k),
                                     texts[(u + k) % std::size(texts)], k);
        batch.push_back(std::move(j));
        if (batch.size() == 100) {
          co_await rt.enqueue(std::move(batch));
          batch.clear();
        }
      }
    co_await until(
        rt, svc,
        [](const store::stats& s, const kinds::ai::results_store::totals& t) {
          return t.results == users * per_user && t.profiles == users && idle(s);
        },
        std::chrono::seconds(120), "all activities and profiles");

    auto stats = co_await spool::runtime::db_of(rt).run([](store::store& s) { return s.count(jobs::now()); });
    BOOST_TEST(state_count(stats, "dead") == 0);
    BOOST_TEST(state_count(stats, "completed") >= users * per_user + users);
    for (int u = 0; u < users; ++u) {
      auto read = [user = user_id(u)](kinds::ai::results_store& r) {
        return std::pair{r.find_profile(user), r.sources(user, 50)};
      };
      auto [profile, sources] = co_await svc.results->run(std::move(read));
      BOOST_REQUIRE(profile);
      BOOST_TEST(profile->source_count == per_user);
      // Up to date: built from the user's newest results, whatever order the jobs ran in.
      BOOST_TEST(profile->source_revision == sources.revision, "user " << u);
      BOOST_TEST(profile->backend == "local");
      auto body = json::parse(profile->profile).as_object();
      BOOST_TEST(!body.at("interests").as_array().empty());
      BOOST_TEST(body.at("activity_summary").as_string().starts_with("20 activities"));
    }

    // The admin API serves what the kinds wrote. Requests are named, not temporaries inside
    // co_await: GCC 12 mis-destroys such temporaries (see persistence/serial_executor.hpp).
    http::api admin(rt, {});
    kinds::ai::add_routes(admin.routes(), svc);
    spool::runtime::stats_of(rt).add_source(kinds::ai::render_inference_metrics);
    const http::request profile_req{"GET", "/api/v1/profiles/user-7", "", ""};
    auto got = co_await admin.handle(profile_req);
    BOOST_TEST(got.status == 200u);
    BOOST_TEST(json::parse(got.body).at("source_count").as_int64() == per_user);
    const http::request result_req{"GET", "/api/v1/activities/act-7-3/result", "", ""};
    got = co_await admin.handle(result_req);
    BOOST_TEST(got.status == 200u);
    BOOST_TEST(json::parse(got.body).at("user_id").as_string() == "user-7");
    BOOST_TEST(json::parse(got.body).at("analysis").at("category").is_string());
    const http::request no_profile{"GET", "/api/v1/profiles/nobody", "", ""};
    got = co_await admin.handle(no_profile);
    BOOST_TEST(got.status == 404u);
    const http::request no_result{"GET", "/api/v1/activities/nothing/result", "", ""};
    got = co_await admin.handle(no_result);
    BOOST_TEST(got.status == 404u);
    const http::request metrics{"GET", "/metrics", "", ""};
    got = co_await admin.handle(metrics);
    BOOST_TEST(got.status == 200u);
    BOOST_TEST(got.body.find(R"(spool_inference_requests_total{backend="local",model="builtin"})") !=
               std::string::npos);
  });
  BOOST_TEST_MESSAGE("1000 activities and 50 profiles in "
                     << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
                     << " s");
}

BOOST_AUTO_TEST_CASE(a_burst_of_one_users_activities_yields_one_pending_profile_job) {
  ai_harness h;
  h.settings.profiles.debounce_s = 2;
  h.run([&](runtime::runtime& rt, kinds::ai::services& svc) -> asio::awaitable<void> {
    std::vector<jobs::new_job> batch;
    for (int k = 0; k < 20; ++k) {
      jobs::new_job j;
      j.kind = "activity_processing";
      j.payload = activity_payload("solo", activity_id(0, k), texts[k % std::size(texts)], k);
      batch.push_back(std::move(j));
    }
    co_await rt.enqueue(std::move(batch));
    // An activity job saves its result before it enqueues the profile job: wait for the jobs to
    // end, not only for their results, or a busy machine can show no profile job yet.
    co_await until(
        rt, svc,
        [](const store::stats& s, const kinds::ai::results_store::totals& t) {
          return t.results == 20 && state_count(s, "completed") == 20;
        },
        std::chrono::seconds(30), "the activities");
    store::list_filter f;
    f.kind = "profile_generation";
    auto list_profiles = [f](store::store& s) { return s.list(f, jobs::now()); };
    auto list = co_await spool::runtime::db_of(rt).run(std::move(list_profiles));
    BOOST_REQUIRE_EQUAL(list.size(), 1u);
    BOOST_TEST(list[0].st == jobs::state::scheduled);
    BOOST_TEST(*list[0].unique_key == "profile:solo");
    BOOST_TEST(list[0].payload == R"({"user_id":"solo"})");
    auto done = co_await await_job(rt, list[0].id, in_state(jobs::state::completed), 10s);
    auto profile = co_await on_results(svc, [](kinds::ai::results_store& r) { return r.find_profile("solo"); });
    BOOST_REQUIRE(profile);
    BOOST_TEST(profile->version == 1);
    BOOST_TEST(profile->source_count == 20);
    (void)done;
  });
}

BOOST_AUTO_TEST_CASE(a_rerun_profile_job_changes_nothing) {
  ai_harness h;
  h.run([&](runtime::runtime& rt, kinds::ai::services& svc) -> asio::awaitable<void> {
    auto id = co_await enqueue_activity(rt, activity_payload("u-1", "a-1", texts[0]));
    co_await await_job(rt, id, in_state(jobs::state::completed));
    co_await until(
        rt, svc,
        [](const store::stats& s, const kinds::ai::results_store::totals& t) { return t.profiles == 1 && idle(s); },
        std::chrono::seconds(10), "the profile");
    auto before = co_await on_results(svc, [](kinds::ai::results_store& r) { return r.find_profile("u-1"); });
    // Run both kinds again, as after a crash: same rows, same version.
    id = co_await enqueue_activity(rt, activity_payload("u-1", "a-1", texts[0]));
    co_await await_job(rt, id, in_state(jobs::state::completed));
    auto pid = co_await enqueue(rt, "profile_generation", R"({"user_id":"u-1"})");
    co_await await_job(rt, pid, in_state(jobs::state::completed));
    co_await until(
        rt, svc, [](const store::stats& s, const kinds::ai::results_store::totals&) { return idle(s); },
        std::chrono::seconds(10), "the reruns");
    auto after = co_await on_results(svc, [](kinds::ai::results_store& r) { return r.find_profile("u-1"); });
    auto row = co_await on_results(svc, [](kinds::ai::results_store& r) { return r.find_result("a-1"); });
    BOOST_REQUIRE(before && after && row);
    BOOST_TEST(after->version == before->version);
    BOOST_TEST(after->profile == before->profile);
    BOOST_TEST(row->revision == 1);
    auto totals = co_await on_results(svc, [](kinds::ai::results_store& r) { return r.count(); });
    BOOST_TEST(totals.results == 1);
  });
}
