// The embedding application owns logging (<spool/log.hpp>): Spool's lines reach the app's handler
// or spdlog logger, with their format and level filter, and the default comes back on reset.
#define BOOST_TEST_MODULE log
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/test/unit_test.hpp>
#include <mutex>
#include <spool/log.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/log.hpp"
#include "tests/support/runtime_harness.hpp"

namespace {

struct captured {
  std::mutex m;
  std::vector<std::pair<spool::log::level, std::string>> lines;
  bool has(std::string_view text) {
    std::lock_guard lock(m);
    for (auto& [_, l] : lines)
      if (l.find(text) != std::string::npos) return true;
    return false;
  }
};

// Every test leaves the default destination behind.
struct reset_log {
  ~reset_log() {
    spool::log::set_handler({});
    spool::log::configure("text", "info");
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(handler_gets_the_runtimes_lines, reset_log) {
  captured got;
  spool::log::set_handler([&](spool::log::level l, std::string_view line) {
    std::lock_guard lock(got.m);
    got.lines.emplace_back(l, std::string(line));
  });
  spool::test::runtime_harness h;
  h.settings.log_level = "info";
  h.settings.log_format = "json";
  h.run([](spool::runtime::runtime&) -> boost::asio::awaitable<void> { co_return; });
  BOOST_TEST(got.has(R"("event":"runtime_started")"));
  BOOST_TEST(got.has(R"("event":"shutdown_complete")"));
  std::lock_guard lock(got.m);
  for (auto& [l, line] : got.lines) {
    BOOST_TEST(line.front() == '{');  // the configured format still applies
    BOOST_TEST((line.back() != '\n'));
  }
}

BOOST_FIXTURE_TEST_CASE(level_filter_and_levels_reach_the_handler, reset_log) {
  captured got;
  spool::log::set_handler([&](spool::log::level l, std::string_view line) {
    got.lines.emplace_back(l, std::string(line));
  });
  spool::log::configure("text", "warn");
  spool::log::info("quiet_event");
  spool::log::warn("loud_event").kv("n", 3);
  spool::log::error("bad_event");
  BOOST_TEST(!got.has("quiet_event"));
  BOOST_REQUIRE(got.lines.size() == 2u);
  BOOST_TEST((got.lines[0].first == spool::log::level::warn));
  BOOST_TEST(got.lines[0].second.find("loud_event n=3") != std::string::npos);
  BOOST_TEST((got.lines[1].first == spool::log::level::error));
}

BOOST_FIXTURE_TEST_CASE(spdlog_logger_of_the_app, reset_log) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto app = std::make_shared<spdlog::logger>("app", sink);
  app->set_pattern("[app] [%l] %v");
  app->set_level(spdlog::level::trace);
  spool::log::set_logger(app);
  spool::log::info("from_spool").kv("job_id", 7);
  spool::log::error("it_failed");
  const auto text = out.str();
  BOOST_TEST(text.find("[app] [info] ") != std::string::npos);
  BOOST_TEST(text.find("from_spool job_id=7") != std::string::npos);
  BOOST_TEST(text.find("[app] [error] ") != std::string::npos);

  // Back to the default: the app's logger hears nothing more.
  spool::log::set_logger(nullptr);
  spool::log::info("after_reset");
  BOOST_TEST(out.str().find("after_reset") == std::string::npos);
}
