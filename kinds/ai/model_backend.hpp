#pragma once
// The backend of a real model: builds the prompt, asks the inference client, and accepts only
// the JSON it asked for (anything else is failure_class::bad_output, retryable).
#include <memory>

#include "kinds/ai/backend.hpp"
#include "kinds/ai/inference_client.hpp"

namespace spool::kinds::ai {

class model_backend final : public backend {
 public:
  explicit model_backend(std::shared_ptr<inference_client> client);
  boost::asio::awaitable<std::variant<activity_analysis, inference_failure>> analyze(
      const activity& a) override;
  boost::asio::awaitable<std::variant<profile, inference_failure>> summarize(
      std::string_view user_id, std::span<const activity_result> sources) override;
  std::string name() const override;

 private:
  std::shared_ptr<inference_client> client_;
};

}  // namespace spool::kinds::ai
