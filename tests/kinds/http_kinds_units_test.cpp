// HTTP kinds without a network: the response contract (kinds/http/response_map.hpp), the request
// signature, the body an attempt POSTs, and the `http_kinds` config entries with their errors.
#include <boost/json/parse.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <map>

#include "config/config.hpp"
#include "jobs/registry.hpp"
#include "kinds/http/http_kinds.hpp"
#include "kinds/http/response_map.hpp"
#include "kinds/http/signature.hpp"
#include "kinds/http_client/endpoint.hpp"

using namespace spool;
using namespace std::chrono_literals;
using kinds::http::answer;
using type = jobs::outcome::type;

namespace {

const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
constexpr auto url = "http://app/jobs";

jobs::outcome status(unsigned code, std::string body = "", std::optional<std::string> retry_after = {},
                     std::chrono::seconds max_snooze = 3600s) {
  answer a;
  a.status = code;
  a.body = std::move(body);
  a.retry_after = std::move(retry_after);
  return kinds::http::map_answer(a, url, now, max_snooze);
}

jobs::outcome failure(answer::how how) {
  answer a;
  a.got = how;
  a.detail = "Connection refused";
  return kinds::http::map_answer(a, url, now, 3600s);
}

std::string config_error_of(const char* doc, const std::map<std::string, std::string>& env = {},
                            bool register_with_executor = false) {
  config::settings s;
  try {
    config::apply_json(s, doc, "spool.json");
    config::validate(s);
    if (register_with_executor) {
      boost::asio::io_context ioc;
      jobs::registry reg;
      kinds::http::register_http_kinds(reg, s, ioc.get_executor(), [&](const char* n) -> const char* {
        auto it = env.find(n);
        return it == env.end() ? nullptr : it->second.c_str();
      });
    }
  } catch (const config::config_error& e) {
    return e.what();
  }
  return "accepted";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(response_contract)

BOOST_AUTO_TEST_CASE(a_2xx_succeeds_whatever_its_body_and_a_json_body_is_the_result) {
  BOOST_TEST((status(200).kind == type::succeeded));
  BOOST_TEST(status(200).result.empty());
  BOOST_TEST((status(204).kind == type::succeeded));
  const auto json = status(201, R"({"embedding":[1,2]})");
  BOOST_TEST((json.kind == type::succeeded));
  BOOST_TEST(json.result == R"({"embedding":[1,2]})");
  const auto text = status(200, "ok, thanks");
  BOOST_TEST((text.kind == type::succeeded));
  BOOST_TEST(text.result.empty());  // not JSON: not kept
}

BOOST_AUTO_TEST_CASE(status_429_and_503_with_retry_after_snooze_within_the_ceiling) {
  auto o = status(429, "", "7");
  BOOST_TEST((o.kind == type::snoozed));
  BOOST_TEST(o.snooze_for.count() == 7'000'000);
  BOOST_TEST(status(503, "", "120").snooze_for.count() == 120'000'000);
  // The ceiling caps a server asking for a day; a zero would spin and waits one second.
  BOOST_TEST(status(429, "", "86400", 60s).snooze_for.count() == 60'000'000);
  BOOST_TEST(status(429, "", "0").snooze_for.count() == 1'000'000);
  // An HTTP-date ten seconds ahead.
  BOOST_TEST(status(503, "", "Tue, 14 Nov 2023 22:13:30 GMT").snooze_for.count() == 10'000'000);
}

BOOST_AUTO_TEST_CASE(status_429_and_5xx_without_a_usable_retry_after_are_retryable_failures) {
  BOOST_TEST((status(429).kind == type::failed));
  BOOST_TEST((status(503).kind == type::failed));
  BOOST_TEST((status(503, "", "soon").kind == type::failed));
  BOOST_TEST((status(500, "boom").kind == type::failed));
  BOOST_TEST(status(500, "boom").message == "HTTP 500 from http://app/jobs: boom");
  // Only 429 and 503 may snooze: a 500 with Retry-After is still a failure.
  BOOST_TEST((status(500, "", "5").kind == type::failed));
}

BOOST_AUTO_TEST_CASE(other_4xx_and_redirects_are_permanent) {
  BOOST_TEST((status(400, "bad payload").kind == type::failed_permanently));
  BOOST_TEST(status(400, "bad payload").message == "HTTP 400 from http://app/jobs: bad payload");
  BOOST_TEST((status(404).kind == type::failed_permanently));
  BOOST_TEST((status(408).kind == type::failed_permanently));
  BOOST_TEST((status(302).kind == type::failed_permanently));
}

BOOST_AUTO_TEST_CASE(timeouts_and_connection_failures_are_retryable) {
  BOOST_TEST((failure(answer::how::timeout).kind == type::failed));
  BOOST_TEST((failure(answer::how::connect_failed).kind == type::failed));
  BOOST_TEST(failure(answer::how::connect_failed).message ==
             "cannot connect to http://app/jobs: Connection refused");
  BOOST_TEST((failure(answer::how::network_failed).kind == type::failed));
}

BOOST_AUTO_TEST_CASE(an_explicit_outcome_in_the_body_overrides_the_status) {
  auto discard = status(200, R"({"outcome":"discard","error":"user deleted"})");
  BOOST_TEST((discard.kind == type::failed_permanently));
  BOOST_TEST(discard.message == "HTTP 200 from http://app/jobs: user deleted");
  BOOST_TEST((status(400, R"({"outcome":"retry","error":"later"})").kind == type::failed));
  auto snooze = status(500, R"({"outcome":"snooze","delay_s":2.5})");
  BOOST_TEST((snooze.kind == type::snoozed));
  BOOST_TEST(snooze.snooze_for.count() == 2'500'000);
  BOOST_TEST(status(200, R"({"outcome":"snooze","delay_s":99999})", {}, 30s).snooze_for.count() == 30'000'000);
  // An outcome it does not know is a retryable failure that says so, not a silent success.
  auto unknown = status(200, R"({"outcome":"later"})");
  BOOST_TEST((unknown.kind == type::failed));
  BOOST_TEST(unknown.message.find("unknown outcome \"later\"") != std::string::npos);
  // A body that is not such an object leaves the status in charge.
  BOOST_TEST((status(200, R"({"result":"ok"})").kind == type::succeeded));
  BOOST_TEST((status(400, "{not json").kind == type::failed_permanently));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(the_signature_is_hmac_sha256_of_timestamp_dot_body_in_hex) {
  // Computed independently with Python: hmac.new(b"topsecret", b'1700000000.{"id":1}', sha256).
  BOOST_TEST(kinds::http::signature("topsecret", "1700000000", R"({"id":1})") ==
             "v1=2b65dcefa7f51ac7ee445bc446105a9557bbfad37a1d5ca4c2480b0b939d1691");
  BOOST_TEST(kinds::http::signature("other", "1700000000", R"({"id":1})") !=
             kinds::http::signature("topsecret", "1700000000", R"({"id":1})"));
}

BOOST_AUTO_TEST_CASE(the_request_body_carries_the_job_and_its_payload_as_json) {
  jobs::claimed_job job;
  job.id = 42;
  job.kind = "embed \"doc\"";
  job.queue = "ai";
  job.payload = R"({"doc":7,"tags":["a"]})";
  job.attempt = 3;
  job.max_attempts = 5;
  const auto v = boost::json::parse(kinds::http::request_body(job)).as_object();
  BOOST_TEST(v.at("id").as_int64() == 42);
  BOOST_TEST(v.at("kind").as_string() == "embed \"doc\"");
  BOOST_TEST(v.at("attempt").as_int64() == 3);
  BOOST_TEST(v.at("max_attempts").as_int64() == 5);
  BOOST_TEST(v.at("queue").as_string() == "ai");
  BOOST_TEST(v.at("payload").at("doc").as_int64() == 7);
  BOOST_TEST(v.at("payload").at("tags").as_array().size() == 1u);
}

BOOST_AUTO_TEST_CASE(urls_keep_their_path_and_query) {
  auto ep = std::get<kinds::http_client::endpoint>(kinds::http_client::parse_url("http://127.0.0.1:9000/jobs/embed?v=2"));
  BOOST_TEST(ep.target == "/jobs/embed?v=2");
  BOOST_TEST(ep.port == "9000");
  BOOST_TEST(std::get<kinds::http_client::endpoint>(kinds::http_client::parse_url("https://app.example")).target == "/");
  BOOST_TEST(std::holds_alternative<std::string>(kinds::http_client::parse_url("http://app/x#frag")));
}

BOOST_AUTO_TEST_SUITE(http_kinds_config)

BOOST_AUTO_TEST_CASE(entries_are_read_with_their_defaults) {
  config::settings s;
  config::apply_json(s, R"({"http_kinds":[{"kind":"embed","url":"http://127.0.0.1:9000/embed","timeout_s":120,
                             "headers":{"X-Team":"search"},"secret_env":"SPOOL_EMBED_SECRET"},
                            {"kind":"thumb","url":"https://app/thumb"}]})", "spool.json");
  config::validate(s);
  BOOST_TEST_REQUIRE(s.http_kinds.size() == 2u);
  BOOST_TEST(s.http_kinds[0].timeout_s == 120);
  BOOST_TEST(s.http_kinds[0].headers.at("X-Team") == "search");
  BOOST_TEST(*s.http_kinds[0].secret_env == "SPOOL_EMBED_SECRET");
  BOOST_TEST(s.http_kinds[1].timeout_s == 60);
  BOOST_TEST(!s.http_kinds[1].secret_env);
  // Registered kinds get the request's timeout plus a margin as the job's timeout.
  jobs::registry reg;
  kinds::http::register_http_kinds(reg, s, std::nullopt, [](const char*) -> const char* { return nullptr; });
  BOOST_TEST_REQUIRE(reg.find("embed") != nullptr);
  BOOST_TEST(reg.find("embed")->options.timeout.count() == 125'000'000);
}

BOOST_AUTO_TEST_CASE(bad_entries_name_the_entry_and_field) {
  BOOST_TEST(config_error_of(R"({"http_kinds":[{"kind":"a","url":"http://x"},{"kind":"b","url":"ftp://x"}]})") ==
             "config file spool.json, key http_kinds[1].url: 'ftp://x' must start with http:// or https://");
  BOOST_TEST(config_error_of(R"({"http_kinds":[{"url":"http://x"}]})") ==
             "config file spool.json, key http_kinds[0].kind: is required");
  BOOST_TEST(config_error_of(R"({"http_kinds":[{"kind":"a","url":"http://x"},{"kind":"a","url":"http://y"}]})") ==
             "config file spool.json, key http_kinds[1].kind: 'a' names two HTTP kinds");
  BOOST_TEST(config_error_of(R"({"http_kinds":[{"kind":"a","url":"http://x","timeout_s":0}]})") ==
             "config file spool.json, key http_kinds[0].timeout_s: must be > 0");
  BOOST_TEST(config_error_of(R"({"http_kinds":[{"kind":"a","url":"http://x","headers":{"X":1}}]})") ==
             "config file spool.json, key http_kinds[0].headers.X: must be a string");
  BOOST_TEST(config_error_of(R"({"http_kinds":[{"kind":"a","url":"http://x","retries":3}]})")
                 .starts_with("config file spool.json, key http_kinds[0].retries: unknown key"));
  BOOST_TEST(config_error_of(R"({"http_kinds":{"kind":"a"}})") ==
             "config file spool.json, key http_kinds: must be an array of kinds");
  BOOST_TEST(config_error_of(R"({"http_kinds":[{"kind":"a","url":"http://x:99999/"}]})", {}, true) ==
             "config file spool.json, key http_kinds[0].url: 'http://x:99999/' has a bad port '99999'");
}

BOOST_AUTO_TEST_CASE(a_missing_secret_variable_is_refused_at_start) {
  const char* doc = R"({"http_kinds":[{"kind":"a","url":"http://x","secret_env":"APP_SECRET"}]})";
  BOOST_TEST(config_error_of(doc, {}, true) ==
             "config file spool.json, key http_kinds[0].secret_env: environment variable APP_SECRET is not "
             "set (it holds the secret that signs kind a's requests)");
  BOOST_TEST(config_error_of(doc, {{"APP_SECRET", "s3cret"}}, true) == "accepted");
  // Listing kinds or enqueueing does not need the secret.
  BOOST_TEST(config_error_of(doc, {}, false) == "accepted");
}

BOOST_AUTO_TEST_SUITE_END()
