#pragma once
// Where the chat completions resource of inference.url lives. The URL may be the server's root
// ("http://127.0.0.1:8080", as llama.cpp documents it) or the API base that OpenAI clients use
// ("http://127.0.0.1:11434/v1", as Ollama documents it); both reach ".../v1/chat/completions".
#include <string>
#include <string_view>
#include <variant>

#include "kinds/http_client/endpoint.hpp"

namespace spool::kinds::ai {

using http_endpoint = http_client::endpoint;

// The endpoint, or why the URL is not usable (only http and https, no user info, no query).
std::variant<http_endpoint, std::string> parse_endpoint(std::string_view url);

}  // namespace spool::kinds::ai
