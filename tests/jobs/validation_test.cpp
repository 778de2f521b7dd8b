// jobs::check: a new job is refused, with the reason, before it reaches a store.
#include <boost/test/unit_test.hpp>

#include "jobs/unique.hpp"
#include "jobs/validation.hpp"

using namespace spool::jobs;

BOOST_AUTO_TEST_SUITE(validation)

BOOST_AUTO_TEST_CASE(a_new_job_holds_its_key_in_the_default_states) {
  BOOST_TEST(new_job{}.unique_states == default_unique_states);
  BOOST_TEST(holds_key(default_unique_states, duration{0}, state::retrying, std::nullopt, now()));
  BOOST_TEST(!holds_key(default_unique_states, duration{0}, state::completed, now(), now()));
}

BOOST_AUTO_TEST_CASE(rejects_bad_jobs_with_a_reason) {
  new_job ok;
  ok.kind = "email";
  BOOST_TEST(!check(ok));
  auto bad = [&](auto mutate, std::string_view needle) {
    new_job j = ok;
    mutate(j);
    auto why = check(j);
    BOOST_REQUIRE(why);
    BOOST_TEST(why->find(needle) != std::string::npos, *why);
  };
  bad([](new_job& j) { j.kind = ""; }, "kind is missing");
  bad([](new_job& j) { j.kind = "bad kind"; }, "kind");
  bad([](new_job& j) { j.queue = "q/1"; }, "queue");
  bad([](new_job& j) { j.payload = "{bad"; }, "not valid JSON");
  bad([](new_job& j) { j.payload = "[1,2]"; }, "JSON object");
  bad([](new_job& j) { j.payload = std::string(2 << 20, ' '); }, "1 MiB");
  bad([](new_job& j) { j.max_attempts = -1; }, "max_attempts");
  bad([](new_job& j) { j.unique_key = ""; }, "unique_key");
}

BOOST_AUTO_TEST_SUITE_END()
