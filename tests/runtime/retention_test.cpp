// The pruner's plan: which finished jobs one pass asks the store to delete.
#define BOOST_TEST_MODULE retention
#include <boost/test/unit_test.hpp>

#include "runtime/retention.hpp"

using namespace spool;
using namespace std::chrono_literals;

namespace {
const store::prune_request* find(const std::vector<store::prune_request>& plan, jobs::state st,
                                 std::optional<std::string> queue) {
  for (auto& r : plan)
    if (r.state == st && r.queue == queue) return &r;
  return nullptr;
}
}  // namespace

BOOST_AUTO_TEST_CASE(defaults_prune_each_final_state_at_its_age) {
  const auto now = jobs::now();
  const auto plan = runtime::prune_plan({}, now, 500);
  BOOST_REQUIRE_EQUAL(plan.size(), 3u);
  BOOST_TEST((find(plan, jobs::state::completed, {})->before == now - 86400s));
  BOOST_TEST((find(plan, jobs::state::cancelled, {})->before == now - 86400s));
  BOOST_TEST((find(plan, jobs::state::dead, {})->before == now - 604800s));
  for (auto& r : plan) {
    BOOST_TEST(r.limit == 500);
    BOOST_TEST(r.except.empty());
  }
}

BOOST_AUTO_TEST_CASE(minus_one_keeps_forever_and_queues_keep_their_own) {
  const auto now = jobs::now();
  config::retention_settings r;
  r.completed_s = 1;
  r.dead_s = -1;
  r.queues["audit"].completed_s = -1;  // kept forever, though others go after 1 s
  r.queues["fast"].completed_s = 0;
  r.queues["fast"].dead_s = 60;  // pruned, though others' dead jobs are kept
  const auto plan = runtime::prune_plan(r, now, 100);
  const auto* all = find(plan, jobs::state::completed, {});
  BOOST_REQUIRE(all);
  BOOST_TEST((all->before == now - 1s));
  BOOST_TEST((all->except == std::vector<std::string>{"audit", "fast"}));
  BOOST_TEST(!find(plan, jobs::state::completed, "audit"));
  BOOST_REQUIRE(find(plan, jobs::state::completed, "fast"));
  BOOST_TEST((find(plan, jobs::state::completed, "fast")->before == now));
  BOOST_TEST(!find(plan, jobs::state::dead, {}));
  BOOST_REQUIRE(find(plan, jobs::state::dead, "fast"));
  BOOST_TEST((find(plan, jobs::state::dead, "fast")->before == now - 60s));
  BOOST_TEST(find(plan, jobs::state::cancelled, {})->except.empty());
  BOOST_TEST(plan.size() == 4u);
}
