#include "kinds/ai/model_backend.hpp"

#include "kinds/ai/model_output.hpp"
#include "kinds/ai/prompt.hpp"

namespace spool::kinds::ai {
namespace asio = boost::asio;

namespace {

// The model's answer read with `parse`, or the failure of the call, or why the answer is unusable.
template <class T, class Parse>
std::variant<T, inference_failure> read_answer(chat_result&& result, Parse parse,
                                               const std::string& backend_name) {
  if (auto* f = std::get_if<inference_failure>(&result)) return std::move(*f);
  auto parsed = parse(std::get<chat_reply>(result).content);
  if (auto* why = std::get_if<std::string>(&parsed))
    return inference_failure{failure_class::bad_output, backend_name + ": " + *why, 0, {}, std::nullopt};
  return std::get<T>(std::move(parsed));
}

}  // namespace

model_backend::model_backend(std::shared_ptr<inference_client> client) : client_(std::move(client)) {}

std::string model_backend::name() const { return client_->name(); }

asio::awaitable<std::variant<activity_analysis, inference_failure>> model_backend::analyze(
    const activity& a) {
  // Named, not a temporary inside co_await: see the GCC 12 note in persistence/serial_executor.hpp.
  auto prompt = analysis_prompt(a);
  auto result = co_await client_->complete(std::move(prompt));
  co_return read_answer<activity_analysis>(std::move(result), parse_analysis, name());
}

asio::awaitable<std::variant<profile, inference_failure>> model_backend::summarize(
    std::string_view user_id, std::span<const activity_result> sources) {
  auto prompt = profile_prompt(user_id, sources);
  auto result = co_await client_->complete(std::move(prompt));
  co_return read_answer<profile>(std::move(result), parse_profile, name());
}

}  // namespace spool::kinds::ai
