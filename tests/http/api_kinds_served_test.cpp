// Unknown kinds (issue 21, point 3): nodes publish the kinds they run in the node registry, and an
// enqueue of a kind no live node runs is refused (422, naming the kinds served) unless the job says
// "force" or the config allows unknown kinds.
#include "persistence/store.hpp"
#include "tests/http/api_harness.hpp"

using namespace spool;
using namespace spool::test;

namespace {

// A node of another process, as its heartbeat records it.
store::node_info other_node(const std::string& id, const std::vector<std::string>& kinds, jobs::time_point beat) {
  store::node_info n;
  n.id = id;
  n.host = "elsewhere";
  n.pid = 4242;
  n.started_at = beat;
  n.queues = {"default"};
  n.kinds = kinds;
  return n;
}

// Records (or refreshes) that node in the registry. Not a coroutine itself: GCC 12 freed a
// node_info of such a coroutine's frame twice.
asio::awaitable<bool> register_node(runtime::runtime& rt, const std::string& id,
                                    const std::vector<std::string>& kinds, jobs::time_point beat) {
  return spool::runtime::db_of(rt).run([n = other_node(id, kinds, beat), beat](store::store& s) {
    s.heartbeat(n, beat);
    return true;
  });
}

std::vector<std::string> names(const json::value& array) {
  std::vector<std::string> out;
  for (auto& v : array.as_array()) out.emplace_back(v.as_string());
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_kinds_served)

BOOST_AUTO_TEST_CASE(a_kind_no_live_node_runs_is_refused_unless_forced) {
  api_harness h;
  h.run([&](runtime::runtime& rt, http::api& api) -> asio::awaitable<void> {
    auto r = co_await call(api, "POST", "/api/v1/jobs", R"({"kind":"resize_image"})");
    BOOST_TEST(r.status == 422u);
    BOOST_TEST(error_code(r) == "unknown_kind");
    const auto err = body_of(r).at("error");
    const auto served = names(err.at("served_kinds"));
    BOOST_TEST((std::find(served.begin(), served.end(), "noop") != served.end()));
    BOOST_TEST(std::string(err.at("message").as_string()).find("noop") != std::string::npos);
    auto batch = co_await call(api, "POST", "/api/v1/jobs/batch", R"([{"kind":"noop"},{"kind":"resize_image"}])");
    BOOST_TEST(batch.status == 422u);
    BOOST_TEST(error_code(batch) == "unknown_kind");
    BOOST_TEST(body_of(batch).at("error").at("message").as_string().starts_with("job 1: "));
    auto listed = body_of(co_await call(api, "GET", "/api/v1/jobs"));
    BOOST_TEST(count_of(listed) == 0);

    // "force" lets it through (it will wait for a node that runs it).
    auto forced = co_await call(api, "POST", "/api/v1/jobs", R"({"kind":"resize_image","force":true})");
    BOOST_TEST(forced.status == 201u, forced.body);
    auto forced_batch = co_await call(api, "POST", "/api/v1/jobs/batch",
                                      R"([{"kind":"noop"},{"kind":"resize_image","force":true}])");
    BOOST_TEST(forced_batch.status == 201u, forced_batch.body);
    auto bad = co_await call(api, "POST", "/api/v1/jobs", R"({"kind":"noop","force":"yes"})");
    BOOST_TEST(bad.status == 400u);

    // Another live node that runs it: accepted without force. Once it is silent: refused again.
    const std::vector<std::string> resize{"resize_image"};
    const std::string other = "other:1:a";
    co_await register_node(rt, other, resize, jobs::now());
    auto remote = co_await call(api, "POST", "/api/v1/jobs", R"({"kind":"resize_image"})");
    BOOST_TEST(remote.status == 201u, remote.body);
    co_await register_node(rt, other, resize, jobs::now() - std::chrono::hours(1));
    auto stale = co_await call(api, "POST", "/api/v1/jobs", R"({"kind":"resize_image"})");
    BOOST_TEST(stale.status == 422u);
  });
}

BOOST_AUTO_TEST_CASE(allow_unknown_kinds_lets_every_kind_through) {
  api_harness h;
  h.settings.allow_unknown_kinds = true;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    auto r = co_await call(api, "POST", "/api/v1/jobs", R"({"kind":"resize_image"})");
    BOOST_TEST(r.status == 201u, r.body);
  });
}

BOOST_AUTO_TEST_CASE(nodes_publish_their_kinds) {
  api_harness h;
  h.run([&](runtime::runtime& rt, http::api& api) -> asio::awaitable<void> {
    // The node's first heartbeat may still be on its way.
    auto self = co_await poll_until(
        [&]() -> asio::awaitable<json::object> {
          auto all = body_of(co_await call(api, "GET", "/api/v1/nodes")).at("nodes").as_array();
          for (auto& n : all)
            if (n.at("self").as_bool()) co_return n.as_object();
          co_return json::object{};
        },
        [](const json::object& n) { return !n.empty(); }, [](const json::object&) { return "no node of its own"; },
        10s, 10ms);
    auto kinds = names(self.at("kinds"));
    auto here = rt.kinds().kinds();
    std::sort(here.begin(), here.end());
    BOOST_TEST(kinds == here, boost::test_tools::per_element());
  });
}

BOOST_AUTO_TEST_SUITE_END()
