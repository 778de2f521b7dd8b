#pragma once
// What the two AI kinds ask of an inference backend, in their own terms. model_backend answers
// through a chat-completion server; local_backend with the built-in deterministic analyzer.
#include <boost/asio/awaitable.hpp>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "kinds/ai/analysis.hpp"
#include "kinds/ai/failure.hpp"
#include "kinds/ai/payload.hpp"
#include "kinds/ai/results_store.hpp"

namespace spool::kinds::ai {

class backend {
 public:
  virtual ~backend() = default;
  // Both are cancellable through the awaiting coroutine's cancellation slot. The arguments must
  // outlive the call (the handlers await at once).
  virtual boost::asio::awaitable<std::variant<activity_analysis, inference_failure>> analyze(
      const activity& a) = 0;
  // `sources`: the user's latest processed activities, newest first.
  virtual boost::asio::awaitable<std::variant<profile, inference_failure>> summarize(
      std::string_view user_id, std::span<const activity_result> sources) = 0;
  // Recorded with every result: "local" or "openai:MODEL".
  virtual std::string name() const = 0;
};

}  // namespace spool::kinds::ai
