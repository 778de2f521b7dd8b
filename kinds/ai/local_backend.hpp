#pragma once
// The default backend: the built-in analyzer (local_analyzer.hpp), a deterministic stand-in for
// a model so that Spool works with no model server. Never fails.
#include "kinds/ai/backend.hpp"

namespace spool::kinds::ai {

struct inference_metrics;

class local_backend final : public backend {
 public:
  local_backend();
  boost::asio::awaitable<std::variant<activity_analysis, inference_failure>> analyze(
      const activity& a) override;
  boost::asio::awaitable<std::variant<profile, inference_failure>> summarize(
      std::string_view user_id, std::span<const activity_result> sources) override;
  std::string name() const override { return "local"; }

 private:
  inference_metrics& stats_;
};

}  // namespace spool::kinds::ai
