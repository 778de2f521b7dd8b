// Concurrency limits as plain code: names, partition values, and which candidates a claim admits.
#include <boost/test/unit_test.hpp>

#include <vector>

#include "jobs/limits.hpp"

using namespace spool::jobs;

BOOST_AUTO_TEST_SUITE(concurrency_limits)

BOOST_AUTO_TEST_CASE(a_limit_is_named_by_what_it_counts) {
  BOOST_TEST(concurrency_limit({"gpu", "", 4, ""}).name() == "kind:gpu");
  BOOST_TEST(concurrency_limit({"", "bulk", 4, ""}).name() == "queue:bulk");
  BOOST_TEST(concurrency_limit({"gpu", "bulk", 4, "payload.user_id"}).name() ==
             "kind:gpu,queue:bulk/payload.user_id");
  const concurrency_limit kind_in_queue{"gpu", "bulk", 4, ""};
  BOOST_TEST(kind_in_queue.matches("gpu", "bulk"));
  BOOST_TEST(!kind_in_queue.matches("gpu", "default"));
  BOOST_TEST(!kind_in_queue.matches("cpu", "bulk"));
  BOOST_TEST(kind_in_queue.applies_to_queue("bulk"));
  BOOST_TEST(!kind_in_queue.applies_to_queue("default"));
  BOOST_TEST(concurrency_limit({"gpu", "", 4, ""}).applies_to_queue("anything"));
}

BOOST_AUTO_TEST_CASE(partition_by_names_a_payload_field) {
  BOOST_TEST(partition_by_error("payload.user_id").empty());
  BOOST_TEST(partition_by_error("payload.account.id").empty());
  BOOST_TEST(!partition_by_error("user_id").empty());
  BOOST_TEST(!partition_by_error("payload.").empty());
  BOOST_TEST(!partition_by_error("payload.a..b").empty());
  BOOST_TEST(!partition_by_error("payload.a b").empty());
  BOOST_TEST(!partition_by_error("payload.a.").empty());
}

BOOST_AUTO_TEST_CASE(the_partition_value_is_the_fields_text) {
  BOOST_TEST(partition_value(R"({"user_id": "u1"})", "payload.user_id") == "u1");
  BOOST_TEST(partition_value(R"({"user_id": 42})", "payload.user_id") == "42");
  BOOST_TEST(partition_value(R"({"a": {"b": true}})", "payload.a.b") == "true");
  // Missing, not an object on the way, or not JSON: the one shared group "".
  BOOST_TEST(partition_value(R"({"other": 1})", "payload.user_id") == "");
  BOOST_TEST(partition_value(R"({"a": 3})", "payload.a.b") == "");
  BOOST_TEST(partition_value("not json", "payload.user_id") == "");
}

BOOST_AUTO_TEST_CASE(a_kind_limit_admits_until_full_and_counts_what_runs) {
  const std::vector<concurrency_limit> limits{{"gpu", "", 3, ""}};
  limit_ledger ledger(limits);
  ledger.count_running({0, ""}, 1);  // one runs on some node already
  BOOST_TEST(ledger.admit("gpu", "default", "{}"));
  BOOST_TEST(ledger.full_kinds("default").empty());
  BOOST_TEST(ledger.admit("gpu", "other", "{}"));  // any queue counts
  BOOST_TEST(!ledger.admit("gpu", "default", "{}"));
  BOOST_TEST(ledger.admit("cpu", "default", "{}"));  // other kinds are not held back
  BOOST_TEST(ledger.used({0, ""}) == 3);
  BOOST_TEST(ledger.full_kinds("default") == std::vector<std::string>{"gpu"});
  BOOST_TEST(!ledger.queue_full("default"));
}

BOOST_AUTO_TEST_CASE(a_queue_limit_counts_every_kind_of_its_queue) {
  const std::vector<concurrency_limit> limits{{"", "bulk", 2, ""}};
  limit_ledger ledger(limits);
  BOOST_TEST(ledger.admit("a", "bulk", "{}"));
  BOOST_TEST(!ledger.queue_full("bulk"));
  BOOST_TEST(ledger.admit("b", "bulk", "{}"));
  BOOST_TEST(ledger.queue_full("bulk"));
  BOOST_TEST(!ledger.admit("c", "bulk", "{}"));
  BOOST_TEST(ledger.admit("c", "default", "{}"));
}

BOOST_AUTO_TEST_CASE(a_partitioned_limit_counts_each_value_apart) {
  const std::vector<concurrency_limit> limits{{"gen", "", 1, "payload.user_id"}};
  limit_ledger ledger(limits);
  ledger.count_running({0, "7"}, 1);
  BOOST_TEST(!ledger.admit("gen", "default", R"({"user_id": 7})"));
  BOOST_TEST(ledger.admit("gen", "default", R"({"user_id": 8})"));
  BOOST_TEST(!ledger.admit("gen", "default", R"({"user_id": 8})"));
  BOOST_TEST(ledger.admit("gen", "default", R"({"user_id": "9"})"));
  // Partitioned limits never shut a whole kind out of the claim's reads.
  BOOST_TEST(ledger.full_kinds("default").empty());
}

BOOST_AUTO_TEST_CASE(a_claim_far_from_every_limit_needs_no_check) {
  const std::vector<concurrency_limit> limits{{"gen", "", 10, "payload.user"}, {"", "q", 20, ""}};
  limit_ledger ledger(limits);
  ledger.count_running({0, "a"}, 3);
  ledger.count_running({0, "b"}, 3);
  BOOST_TEST(!ledger.could_bind(4));  // 6 + 4 fit the first, 0 + 4 the second
  BOOST_TEST(ledger.could_bind(5));   // 6 + 5 could pass 10
  ledger.count_running({1, ""}, 17);
  BOOST_TEST(ledger.could_bind(4));  // 17 + 4 could pass 20
}

BOOST_AUTO_TEST_CASE(a_job_under_two_limits_starts_only_with_room_in_both) {
  const std::vector<concurrency_limit> limits{{"gen", "", 5, ""}, {"", "q", 1, ""}};
  limit_ledger ledger(limits);
  BOOST_TEST(ledger.admit("gen", "q", "{}"));
  BOOST_TEST(!ledger.admit("gen", "q", "{}"));  // the queue is full; the kind limit is not
  BOOST_TEST(ledger.used({0, ""}) == 1);        // and a refused job counts against neither
  BOOST_TEST(ledger.admit("gen", "other", "{}"));
  BOOST_TEST(ledger.used({0, ""}) == 2);
}

BOOST_AUTO_TEST_SUITE_END()
