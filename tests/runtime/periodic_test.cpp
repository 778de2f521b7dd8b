#define BOOST_TEST_MODULE periodic
// Periodic jobs in a running runtime: the leader enqueues each tick's job once, catches up one
// missed tick after downtime (or none), and forgets the rows of removed schedules at start.
#include "schedule/cron.hpp"
#include "tests/support/count_oracle.hpp"
#include "tests/support/runtime_harness.hpp"

using namespace spool;
using namespace spool::test;

namespace {

config::periodic_settings schedule_of(std::string name, std::string cron, std::string kind,
                                      std::string catch_up = "one") {
  config::periodic_settings p;
  p.name = std::move(name);
  p.cron = std::move(cron);
  p.kind = std::move(kind);
  p.catch_up = std::move(catch_up);
  return p;
}

asio::awaitable<std::vector<store::periodic_row>> rows_of(runtime::runtime& rt) {
  auto read = [](store::store& s) { return s.periodic_rows(); };
  co_return co_await runtime::db_of(rt).run(std::move(read));
}

const store::periodic_row* find(const std::vector<store::periodic_row>& rows, const std::string& name) {
  for (const auto& r : rows)
    if (r.name == name) return &r;
  return nullptr;
}

}  // namespace

BOOST_AUTO_TEST_CASE(each_tick_enqueues_one_job_that_runs) {
  runtime_harness h;
  std::atomic<int> calls{0};
  h.kinds.add("beat", [&](jobs::job_context& ctx) -> asio::awaitable<jobs::outcome> {
    BOOST_TEST(ctx.payload().at("n").as_int64() == 7);
    ++calls;
    co_return jobs::outcome::success();
  });
  auto p = schedule_of("beat", "@every 1s", "beat");
  p.payload = R"({"n":7})";
  p.priority = 3;
  h.settings.periodic = {p};
  const auto started = jobs::now();
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    // Two ticks: the first job, then the row moves on to a later tick with a second job.
    auto first = co_await poll_until([&] { return rows_of(rt); },
                                     [](auto& rows) { return find(rows, "beat") && find(rows, "beat")->last_job_id; },
                                     [](auto&) { return std::string("no tick was enqueued"); }, 15s);
    const auto tick1 = find(first, "beat")->last_tick;
    BOOST_TEST((tick1 > started));  // a new schedule runs no tick from before it started
    BOOST_TEST((tick1 <= jobs::now()));
    auto j = co_await await_job(rt, *find(first, "beat")->last_job_id, in_state(jobs::state::completed));
    BOOST_TEST(j.kind == "beat");
    BOOST_TEST(j.priority == 3);
    BOOST_TEST(*j.unique_key == "periodic:beat:" + std::to_string(tick1.time_since_epoch().count()));
    BOOST_TEST((j.created_at >= tick1));  // never before its time
    auto second = co_await poll_until([&] { return rows_of(rt); },
                                      [&](auto& rows) { return find(rows, "beat")->last_tick > tick1; },
                                      [](auto&) { return std::string("no second tick"); }, 15s);
    BOOST_TEST((find(second, "beat")->last_tick - tick1 == std::chrono::seconds(1) ||
                find(second, "beat")->last_tick - tick1 > std::chrono::seconds(1)));
    co_await await_job(rt, *find(second, "beat")->last_job_id, in_state(jobs::state::completed));
  });
  BOOST_TEST(calls >= 2);
}

BOOST_AUTO_TEST_CASE(after_downtime_one_missed_tick_runs_or_none_and_removed_schedules_go) {
  runtime_harness h;
  // The database as a run three days ago left it: two schedules since removed from the config
  // ("gone"), or kept ("daily", "skipper").
  const auto now = jobs::now();
  const auto long_ago = now - std::chrono::hours(72);
  {
    auto st = store::open(h.db.url());
    st->migrate();
    auto raw = raw_session(h.db.url());
    for (const char* name : {"daily", "skipper", "gone"}) {
      long long t = long_ago.time_since_epoch().count();
      std::string n = name;
      *raw << "INSERT INTO periodic (name, last_tick) VALUES (:n, :t)", soci::use(n), soci::use(t);
    }
  }
  // "skipper" ticks hourly at half an hour from now: its latest tick is far more than its grace late.
  const auto minute = (std::chrono::floor<std::chrono::minutes>(now).time_since_epoch().count() + 30) % 60;
  h.settings.periodic = {schedule_of("skipper", std::to_string(minute) + " * * * *", "noop", "none"),
                         schedule_of("daily", "0 * * * *", "noop", "one")};
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    // One pass handles the schedules in order: once "daily" moved, "skipper" was decided too.
    auto rows = co_await poll_until([&] { return rows_of(rt); },
                                    [&](auto& rows) { return find(rows, "daily")->last_tick > long_ago; },
                                    [](auto&) { return std::string("the missed tick was not caught up"); }, 15s);
    const auto latest = schedule::cron::parse("0 * * * *").latest(jobs::now(), long_ago);
    BOOST_REQUIRE(latest);
    const auto daily = *find(rows, "daily");
    // The latest missed tick (or, had an hour begun meanwhile, the one after it).
    BOOST_TEST((daily.last_tick == *latest || daily.last_tick + std::chrono::hours(1) == *latest));
    BOOST_TEST((daily.last_tick <= jobs::now()));
    BOOST_TEST((find(rows, "skipper")->last_tick == long_ago));
    BOOST_TEST(!find(rows, "gone"));
    store::list_filter f;
    auto list = [f](store::store& s) { return s.list(f, jobs::now()); };
    auto jobs_now = co_await runtime::db_of(rt).run(std::move(list));
    BOOST_TEST(jobs_now.size() == 1u);  // one catch-up job, not 72
    BOOST_REQUIRE(!jobs_now.empty());
    BOOST_TEST(jobs_now[0].id == *daily.last_job_id);
  });
}

BOOST_AUTO_TEST_CASE(a_schedule_of_a_kind_nothing_runs_is_refused) {
  runtime_setup setup;
  setup.settings.periodic = {schedule_of("typo", "@hourly", "nopp")};
  asio::io_context ioc;
  BOOST_CHECK_EXCEPTION(runtime::runtime(ioc.get_executor(), setup.settings, std::move(setup.kinds)),
                        config::config_error, [](const config::config_error& e) {
                          return std::string(e.what()) == "setting periodic[0].kind: no kind 'nopp' is registered";
                        });
}
