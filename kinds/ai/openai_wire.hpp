#pragma once
// The JSON of POST /v1/chat/completions, the part of the OpenAI API that llama.cpp's server,
// Ollama and vLLM all speak: the request body, and the completion read from a 200 answer.
#include <string>
#include <string_view>
#include <variant>

#include "kinds/ai/inference_client.hpp"

namespace spool::kinds::ai {

std::string completion_body(const chat_request& request, std::string_view model);

// The first choice's message content and the token usage, or why the body is not a completion.
std::variant<chat_reply, std::string> parse_completion(std::string_view body);

}  // namespace spool::kinds::ai
