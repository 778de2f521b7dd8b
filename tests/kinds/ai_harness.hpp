#pragma once
// The runtime harness with the built-in AI kinds only, as `spool run` has them: their services
// (backend, results store) are made before the runtime and outlive it, since the handlers hold
// them. The scenario gets both: `scenario(rt, svc)`.
#include <boost/json/serialize.hpp>

#include "jobs/json.hpp"
#include "kinds/ai/kinds.hpp"
#include "kinds/ai/schema.hpp"
#include "tests/support/runtime_harness.hpp"

namespace spool::test {

struct ai_harness : runtime_harness {
  ai_harness() {
    kinds = {};
    settings.queues = {{"default", 20}};
    settings.profiles.debounce_s = 0.05;
  }

  // Points the kinds at an OpenAI-compatible server.
  void use_openai(const std::string& url) {
    settings.inference.backend = "openai";
    settings.inference.url = url;
    settings.inference.model = "test-model";
    settings.inference.api_key = "sk-test";
    settings.inference.timeout_s = 30;
  }

  template <class Scenario>
  void run(Scenario scenario) {
    asio::io_context ioc(threads);
    auto svc = kinds::ai::make_services(ioc.get_executor(), settings);
    kinds::ai::register_kinds(kinds, svc, settings);
    runtime::runtime rt(ioc.get_executor(), settings, std::move(kinds), {kinds::ai::schema()});
    drive(ioc, rt, scenario(rt, *svc));
  }
};

inline std::string activity_payload(const std::string& user, const std::string& id,
                                    const std::string& text, int minute = 0) {
  const auto at = *jobs::parse_rfc3339("2026-11-28T10:00:00Z") + std::chrono::minutes(minute);
  return boost::json::serialize(boost::json::object{{"user_id", user},
                                                    {"activity_id", id},
                                                    {"type", "note"},
                                                    {"text", text},
                                                    {"occurred_at", jobs::to_rfc3339(at)}});
}

inline asio::awaitable<jobs::job_id> enqueue_activity(runtime::runtime& rt, std::string payload) {
  return enqueue(rt, "activity_processing", std::move(payload));
}

// Runs `f(results_store&)` on the kinds' own db thread.
template <class F>
asio::awaitable<std::invoke_result_t<F, kinds::ai::results_store&>> on_results(
    kinds::ai::services& svc, F f) {
  co_return co_await svc.results->run(std::move(f));
}

}  // namespace spool::test
