#pragma once
// The one call the model-backed handlers need from an inference server: a chat completion.
// openai_client implements it over HTTP; tests can fake it.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "kinds/ai/failure.hpp"

namespace spool::kinds::ai {

struct chat_message {
  std::string role;  // system | user | assistant
  std::string content;
};

struct chat_request {
  std::vector<chat_message> messages;
  bool json_output = true;  // ask the server to constrain the answer to a JSON object
  int max_tokens = 512;
  double temperature = 0;  // deterministic as far as the server allows: reruns should agree
};

struct chat_reply {
  std::string content;
  std::optional<std::int64_t> prompt_tokens;  // when the server reports usage
  std::optional<std::int64_t> completion_tokens;
};

using chat_result = std::variant<chat_reply, inference_failure>;

class inference_client {
 public:
  virtual ~inference_client() = default;
  // Cancellable through the awaiting coroutine's cancellation slot: a terminal cancellation
  // aborts the exchange at once and the call returns failure_class::cancelled.
  virtual boost::asio::awaitable<chat_result> complete(chat_request request) = 0;
  // "openai:MODEL": what is recorded as the producer of a result.
  virtual std::string name() const = 0;
};

}  // namespace spool::kinds::ai
