#define BOOST_TEST_MODULE config
#include <boost/test/unit_test.hpp>
#include <map>

#include "config/config.hpp"
#include "jobs/registry.hpp"
#include "config/keys.hpp"

using namespace spool::config;

namespace {
bool names(const config_error& e, std::string_view key) {
  return std::string(e.what()).find(key) != std::string::npos;
}
}  // namespace

BOOST_AUTO_TEST_CASE(layers_apply_in_order) {
  settings s;
  apply_json(s, R"({"db":"sqlite:a.db","workers":3,"queues":{"default":5,"ai":2},
                    "kinds":{"fail":{"retry_base_s":0.1,"max_attempts":4}}})", "file");
  BOOST_TEST(s.db == "sqlite:a.db");
  BOOST_TEST(s.workers == 3);
  BOOST_TEST(s.queues.size() == 2u);
  BOOST_TEST(*s.kinds["fail"].retry_base_s == 0.1);
  std::map<std::string, std::string> env{{"SPOOL_DB", "sqlite:b.db"}, {"SPOOL_QUEUES", "x=1,y=2"}};
  apply_env(s, [&](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  BOOST_TEST(s.db == "sqlite:b.db");
  BOOST_TEST(s.queues.size() == 2u);
  BOOST_TEST(s.queues.at("y") == 2);
  BOOST_TEST(s.workers == 3);  // untouched by env
  validate(s);
}

BOOST_AUTO_TEST_CASE(unknown_keys_and_bad_values_name_the_key) {
  settings s;
  BOOST_CHECK_EXCEPTION(apply_json(s, R"({"wrokers":3})", "f"), config_error,
                        [](auto& e) { return names(e, "wrokers") && names(e, "unknown key"); });
  BOOST_CHECK_EXCEPTION(apply_json(s, R"({"grace_s":"soon"})", "f"), config_error,
                        [](auto& e) { return names(e, "grace_s"); });
  BOOST_CHECK_EXCEPTION(apply_json(s, R"({"kinds":{"k":{"timeout":1}}})", "f"), config_error,
                        [](auto& e) { return names(e, "kinds.k.timeout"); });
  BOOST_CHECK_EXCEPTION(apply_json(s, "{not json", "f"), config_error,
                        [](auto& e) { return names(e, "invalid JSON"); });
  settings v;
  v.queues = {{"default", 0}};
  BOOST_CHECK_EXCEPTION(validate(v), config_error, [](auto& e) { return names(e, "queues.default"); });
  v = settings{};
  v.log_format = "xml";
  BOOST_CHECK_EXCEPTION(validate(v), config_error, [](auto& e) { return names(e, "log_format"); });
  BOOST_CHECK_EXCEPTION(apply_env(v, [](const char* n) -> const char* {
                          return std::string_view(n) == "SPOOL_WORKERS" ? "many" : nullptr;
                        }),
                        config_error, [](auto& e) { return names(e, "SPOOL_WORKERS"); });
  BOOST_CHECK_EXCEPTION(apply_file(v, "/nonexistent/spool.json"), config_error,
                        [](auto& e) { return names(e, "/nonexistent/spool.json"); });
}

// Issue 20: the snooze ceiling is set per kind, and reaches the kind's policy.
BOOST_AUTO_TEST_CASE(a_kinds_snooze_ceiling_is_configurable) {
  settings s;
  apply_json(s, R"({"kinds":{"chat":{"max_snoozes":5,"max_snooze_total_s":600}}})", "f");
  validate(s);
  const auto o = spool::jobs::with_settings({}, s.kinds.at("chat"));
  BOOST_TEST(o.snoozes.max_snoozes == 5);
  BOOST_TEST(o.snoozes.max_total.count() == std::chrono::microseconds(std::chrono::minutes(10)).count());
  const auto defaults = spool::jobs::with_settings({}, {});
  BOOST_TEST(defaults.snoozes.max_snoozes == 100);
  BOOST_TEST(defaults.snoozes.max_total.count() == std::chrono::microseconds(std::chrono::hours(24)).count());
  settings bad;
  apply_json(bad, R"({"kinds":{"chat":{"max_snoozes":-1}}})", "f");
  BOOST_CHECK_EXCEPTION(validate(bad), config_error, [](auto& e) { return names(e, "kinds.chat.max_snoozes"); });
  settings worse;
  apply_json(worse, R"({"kinds":{"chat":{"max_snooze_total_s":-2}}})", "f");
  BOOST_CHECK_EXCEPTION(validate(worse), config_error,
                        [](auto& e) { return names(e, "kinds.chat.max_snooze_total_s"); });
}

BOOST_AUTO_TEST_CASE(durations_past_ten_years_are_refused) {
  // Found by fuzz/config_file: these passed validation, then overflowed when the runtime turned
  // them into microseconds or nanoseconds.
  for (auto doc : {R"({"lease_s":1e75})", R"({"poll_interval_s":315360001})", R"({"grace_s":1e300})",
                   R"({"http_timeout_s":1e20})", R"({"inference":{"timeout_s":1e19}})",
                   R"({"profiles":{"debounce_s":1e16}})", R"({"kinds":{"k":{"retry_cap_s":1e300}}})",
                   R"({"kinds":{"k":{"timeout_s":4e9}}})", R"({"rescue_interval_s":1e10})"}) {
    settings s;
    apply_json(s, doc, "f");
    BOOST_CHECK_EXCEPTION(validate(s), config_error,
                          [](auto& e) { return names(e, "at most ten years"); });
  }
  settings inf;
  apply_env(inf, [](const char* n) -> const char* {
    return std::string_view(n) == "SPOOL_LEASE_S" ? "inf" : nullptr;
  });
  BOOST_CHECK_EXCEPTION(validate(inf), config_error, [](auto& e) { return names(e, "lease_s"); });
  settings ten_years;
  apply_json(ten_years, R"({"lease_s":315360000,"kinds":{"k":{"retry_cap_s":315360000}}})", "f");
  validate(ten_years);
}

BOOST_AUTO_TEST_CASE(queue_specs) {
  BOOST_TEST(parse_queue("ai=4").first == "ai");
  BOOST_TEST(parse_queue("ai=4").second == 4);
  BOOST_CHECK_THROW(parse_queue("ai"), config_error);
  BOOST_CHECK_THROW(parse_queue("ai=four"), config_error);
}

BOOST_AUTO_TEST_CASE(errors_name_the_file_key_variable_or_flag_that_held_the_value) {
  settings s;
  apply_json(s, R"({"queues": {"default": 0}})", "/etc/spool.json");
  BOOST_CHECK_EXCEPTION(validate(s), config_error, [](auto& e) {
    return std::string(e.what()) ==
           "config file /etc/spool.json, key queues.default: concurrency must be 1..100000";
  });
  apply_env(s, [](const char* n) -> const char* {
    return std::string_view(n) == "SPOOL_LOG_LEVEL" ? "loud" : nullptr;
  });
  s.queues = {{"default", 1}};
  BOOST_CHECK_EXCEPTION(validate(s), config_error,
                        [](auto& e) { return names(e, "environment variable SPOOL_LOG_LEVEL"); });
  settings f;
  apply_flag(f, *find_flag("--http"), "nowhere");
  BOOST_CHECK_EXCEPTION(validate(f), config_error,
                        [](auto& e) { return names(e, "flag --http: 'nowhere' is not HOST:PORT"); });
  BOOST_CHECK_EXCEPTION(apply_json(f, "{\n  \"workers\": ,\n}", "c.json"), config_error,
                        [](auto& e) { return names(e, "invalid JSON at line 2"); });
  BOOST_CHECK_EXCEPTION(apply_json(f, R"({"wrkers": 1})", "c.json"), config_error,
                        [](auto& e) { return names(e, "known: db, workers"); });
}

BOOST_AUTO_TEST_CASE(every_key_with_an_env_variable_reads_it) {
  // The table is the one source: each variable it names is read by apply_env.
  for (auto& key : keys()) {
    if (key.env.empty()) continue;
    settings s;
    try {
      apply_env(s, [&](const char* n) -> const char* { return key.env == n ? "x" : nullptr; });
      BOOST_TEST(s.origins.count(std::string(key.json)) == 1u, key.env);
    } catch (const config_error& e) {  // "x" is no number: the error names the variable
      BOOST_TEST(names(e, key.env), e.what());
    }
  }
}

BOOST_AUTO_TEST_CASE(retention_from_file_env_and_per_queue) {
  settings s;
  BOOST_TEST(s.retention.completed_s == 86400);
  BOOST_TEST(s.retention.cancelled_s == 86400);
  BOOST_TEST(s.retention.dead_s == 604800);
  BOOST_TEST(s.retention.interval_s == 60);
  apply_json(s, R"({"retention":{"completed_s":10,"dead_s":-1,
                    "queues":{"audit":{"completed_s":-1},"tmp":{"cancelled_s":0}}}})", "file");
  BOOST_TEST(s.retention.completed_s == 10);
  BOOST_TEST(s.retention.dead_s == -1);
  BOOST_TEST(*s.retention.queues.at("audit").completed_s == -1);
  BOOST_TEST(!s.retention.queues.at("audit").dead_s);
  std::map<std::string, std::string> env{{"SPOOL_RETENTION_CANCELLED_S", "5"},
                                         {"SPOOL_RETENTION_INTERVAL_S", "0.5"}};
  apply_env(s, [&](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  BOOST_TEST(s.retention.cancelled_s == 5);
  BOOST_TEST(s.retention.interval_s == 0.5);
  validate(s);

  auto refused = [](const char* text, std::string_view key) {
    settings bad;
    try {
      apply_json(bad, text, "file");
      validate(bad);
    } catch (const config_error& e) {
      return names(e, key);
    }
    return false;
  };
  BOOST_TEST(refused(R"({"retention":{"completed_s":-2}})", "retention.completed_s"));
  BOOST_TEST(refused(R"({"retention":{"interval_s":0}})", "retention.interval_s"));
  BOOST_TEST(refused(R"({"retention":{"keep":1}})", "retention.keep"));
  BOOST_TEST(refused(R"({"retention":{"queues":{"q":{"dead_s":-5}}}})", "retention.queues.q.dead_s"));
  BOOST_TEST(refused(R"({"retention":{"dead_s":400000000}})", "retention.dead_s"));
}

BOOST_AUTO_TEST_CASE(periodic_schedules_from_the_file_with_their_defaults) {
  settings s;
  apply_json(s, R"({"periodic":[
    {"name":"nightly","cron":"0 3 * * *","timezone":"Europe/Berlin","kind":"report","queue":"ai",
     "payload":{"full":true},"priority":-1,"max_attempts":3,"catch_up":"none"},
    {"name":"tick","cron":"@every 30s","kind":"noop"}]})", "spool.json");
  validate(s);
  BOOST_REQUIRE_EQUAL(s.periodic.size(), 2u);
  const auto& n = s.periodic[0];
  BOOST_TEST(n.name == "nightly");
  BOOST_TEST(n.timezone == "Europe/Berlin");
  BOOST_TEST(n.queue == "ai");
  BOOST_TEST(n.payload == R"({"full":true})");
  BOOST_TEST(n.priority == -1);
  BOOST_TEST(n.max_attempts == 3);
  BOOST_TEST(n.catch_up == "none");
  const auto& t = s.periodic[1];
  BOOST_TEST(t.timezone == "UTC");
  BOOST_TEST(t.queue == "default");
  BOOST_TEST(t.payload == "{}");
  BOOST_TEST(t.catch_up == "one");
}

namespace {
// What apply_json and validate say of a config document: the error, or "accepted".
std::string error(const char* doc) {
  settings s;
  try {
    apply_json(s, doc, "spool.json");
    validate(s);
  } catch (const config_error& e) {
    return e.what();
  }
  return "accepted";
}
}  // namespace

BOOST_AUTO_TEST_CASE(bad_periodic_schedules_name_the_entry_and_field) {
  BOOST_TEST(error(R"({"periodic":[{"name":"a","cron":"0 3 * * *","kind":"k"},
                                   {"name":"b","cron":"61 * * * *","kind":"k"}]})") ==
             "config file spool.json, key periodic[1].cron: minute: 61 is out of range 0-59");
  BOOST_TEST(error(R"({"periodic":[{"name":"a","cron":"0 3 * * *","timezone":"Mars/Base","kind":"k"}]})")
                 .starts_with("config file spool.json, key periodic[0].timezone: unknown time zone 'Mars/Base'"));
  BOOST_TEST(error(R"({"periodic":[{"name":"a","cron":"@daily","kind":"k"},{"name":"a","cron":"@hourly","kind":"k"}]})") ==
             "config file spool.json, key periodic[1].name: 'a' names two schedules");
  BOOST_TEST(error(R"({"periodic":[{"name":"a","kind":"k"}]})") ==
             "config file spool.json, key periodic[0].cron: is required");
  BOOST_TEST(error(R"({"periodic":[{"name":"a","cron":"@daily","kind":"k","catch_up":"all"}]})") ==
             "config file spool.json, key periodic[0].catch_up: must be one or none");
  BOOST_TEST(error(R"({"periodic":[{"name":"a","cron":"@daily","kind":"k","payload":[1]}]})") ==
             "config file spool.json, key periodic[0].payload: must be a JSON object");
  BOOST_TEST(error(R"({"periodic":[{"name":"a","cron":"@daily","kind":"k","every":"1h"}]})")
                 .starts_with("config file spool.json, key periodic[0].every: unknown key"));
  BOOST_TEST(error(R"({"periodic":{"name":"a"}})") ==
             "config file spool.json, key periodic: must be an array of schedules");
}

BOOST_AUTO_TEST_CASE(limits_from_the_file_and_their_errors) {
  settings s;
  apply_json(s, R"({"limits":[{"kind":"profile_generation","concurrency":4},
                             {"queue":"bulk","concurrency":2},
                             {"kind":"gen","concurrency":1,"partition_by":"payload.user_id"}]})",
             "spool.json");
  validate(s);
  BOOST_REQUIRE_EQUAL(s.limits.size(), 3u);
  BOOST_TEST(s.limits[0].kind == "profile_generation");
  BOOST_TEST(s.limits[0].queue == "");
  BOOST_TEST(s.limits[0].concurrency == 4);
  BOOST_TEST(s.limits[1].queue == "bulk");
  BOOST_TEST(s.limits[2].partition_by == "payload.user_id");

  BOOST_TEST(error(R"({"limits":[{"kind":"k"}]})") ==
             "config file spool.json, key limits[0].concurrency: is required");
  BOOST_TEST(error(R"({"limits":[{"concurrency":3}]})") ==
             "config file spool.json, key limits[0]: needs a kind, a queue or both");
  BOOST_TEST(error(R"({"limits":[{"kind":"k","concurrency":0}]})") ==
             "config file spool.json, key limits[0].concurrency: must be >= 1");
  BOOST_TEST(error(R"({"limits":[{"kind":"k","concurrency":1,"partition_by":"user_id"}]})") ==
             "config file spool.json, key limits[0].partition_by: must name a payload field, as "
             "\"payload.user_id\"");
  BOOST_TEST(error(R"({"limits":[{"kind":"k","concurrency":1},{"kind":"k","concurrency":2}]})") ==
             "config file spool.json, key limits[1].kind: 'kind:k' is limited twice");
  BOOST_TEST(error(R"({"limits":[{"kind":"k","concurrency":1,"rate":{"limit":5}}]})")
                 .starts_with("config file spool.json, key limits[0].rate: unknown key"));
  BOOST_TEST(error(R"({"limits":{"kind":"k"}})") ==
             "config file spool.json, key limits: must be an array of limits");
}
