#pragma once
// Where the chat completions resource of inference.url lives. The URL may be the server's root
// ("http://127.0.0.1:8080", as llama.cpp documents it) or the API base that OpenAI clients use
// ("http://127.0.0.1:11434/v1", as Ollama documents it); both reach ".../v1/chat/completions".
#include <string>
#include <string_view>
#include <variant>

namespace spool::kinds::ai {

struct http_endpoint {
  bool tls = false;
  std::string host;         // a name or an IP address (IPv6 without brackets)
  std::string port;         // "80" and "443" by default
  std::string target;       // "/v1/chat/completions", after the URL's own path
  std::string host_header;  // what the Host header says
};

// The endpoint, or why the URL is not usable (only http and https, no user info, no query).
std::variant<http_endpoint, std::string> parse_endpoint(std::string_view url);

}  // namespace spool::kinds::ai
