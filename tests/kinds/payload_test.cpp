#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "jobs/json.hpp"
#include "kinds/ai/payload.hpp"

using namespace spool::jobs;
using namespace spool::kinds::ai;
namespace json = boost::json;

namespace {

json::object good() {
  return json::parse(R"({"user_id":"u-1","activity_id":"a-1","type":"note",
                         "text":"Read a chapter on Rust lifetimes.",
                         "occurred_at":"2026-11-28T14:00:00Z"})")
      .as_object();
}

// The message of the error parse_activity reports for `payload`, or "" when it accepts it.
std::string error_of(const json::object& payload) {
  auto got = parse_activity(payload);
  auto* bad = std::get_if<payload_error>(&got);
  return bad ? bad->message() : "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(payload_validation)

BOOST_AUTO_TEST_CASE(a_well_formed_activity_is_read_field_by_field) {
  auto got = parse_activity(good());
  BOOST_REQUIRE(std::holds_alternative<activity>(got));
  const auto& a = std::get<activity>(got);
  BOOST_TEST(a.user_id == "u-1");
  BOOST_TEST(a.activity_id == "a-1");
  BOOST_TEST(a.type == "note");
  BOOST_TEST(a.text == "Read a chapter on Rust lifetimes.");
  BOOST_TEST(to_rfc3339(a.occurred_at) == "2026-11-28T14:00:00.000000Z");
}

BOOST_AUTO_TEST_CASE(each_missing_field_is_named) {
  for (auto field : {"user_id", "activity_id", "type", "text", "occurred_at"}) {
    auto p = good();
    p.erase(field);
    BOOST_TEST(error_of(p) == "payload field '" + std::string(field) + "' is missing");
  }
}

BOOST_AUTO_TEST_CASE(wrong_types_blanks_and_sizes_are_named) {
  auto p = good();
  p["user_id"] = 42;
  BOOST_TEST(error_of(p) == "payload field 'user_id' must be a string");
  p = good();
  p["text"] = "  \n ";
  BOOST_TEST(error_of(p) == "payload field 'text' must not be empty");
  p = good();
  p["text"] = std::string(max_text_bytes + 1, 'x');
  BOOST_TEST(error_of(p).starts_with("payload field 'text' is longer than"));
  p = good();
  p["activity_id"] = std::string(max_id_bytes + 1, 'x');
  BOOST_TEST(error_of(p).starts_with("payload field 'activity_id' is longer than"));
}

BOOST_AUTO_TEST_CASE(occurred_at_must_be_rfc3339) {
  auto p = good();
  p["occurred_at"] = "yesterday";
  BOOST_TEST(error_of(p).starts_with("payload field 'occurred_at' must be an RFC 3339 time"));
  p["occurred_at"] = "2026-11-28T14:00:00+02:00";
  BOOST_TEST(error_of(p) == "");
}

BOOST_AUTO_TEST_CASE(an_unknown_field_is_named_so_typos_surface) {
  auto p = good();
  p["ocurred_at"] = "2026-11-28T14:00:00Z";
  BOOST_TEST(error_of(p) == "payload field 'ocurred_at' is not a known field");
}

BOOST_AUTO_TEST_CASE(a_profile_request_needs_exactly_a_user_id) {
  auto ok = parse_profile_request(json::parse(R"({"user_id":"u-9"})").as_object());
  BOOST_REQUIRE(std::holds_alternative<std::string>(ok));
  BOOST_TEST(std::get<std::string>(ok) == "u-9");
  auto missing = parse_profile_request(json::object{});
  BOOST_REQUIRE(std::holds_alternative<payload_error>(missing));
  BOOST_TEST(std::get<payload_error>(missing).field == "user_id");
  auto extra = parse_profile_request(json::parse(R"({"user_id":"u","n":3})").as_object());
  BOOST_REQUIRE(std::holds_alternative<payload_error>(extra));
  BOOST_TEST(std::get<payload_error>(extra).field == "n");
}

BOOST_AUTO_TEST_SUITE_END()
