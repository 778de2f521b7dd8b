#pragma once
// The `openai` backend's HTTP side: POST /v1/chat/completions on an OpenAI-compatible server
// (llama.cpp's llama-server, Ollama, vLLM), over http or https, on the runtime's io_context.
// Keep-alive connections are pooled; at most max_concurrency requests are in flight across all
// jobs (the rest wait their turn, cancellably); every call ends in a value, never an exception.
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "kinds/ai/inference_client.hpp"

namespace spool::kinds::ai {

struct inference_metrics;

struct openai_options {
  std::string url;  // see http_endpoint.hpp for the forms it takes
  std::string model;
  std::optional<std::string> api_key;
  std::optional<std::string> ca_file;  // PEM; default: the system's trust store
  std::chrono::milliseconds timeout{120000};  // per exchange, connect to last byte
  int max_concurrency = 4;
  std::size_t max_response_bytes = 4 << 20;
  std::chrono::seconds max_idle{30};  // how long a pooled connection may wait for reuse
};

class openai_client final : public inference_client {
 public:
  // Throws std::invalid_argument for an unusable URL and std::runtime_error when TLS cannot be
  // set up (e.g. an unreadable ca_file), so a misconfiguration stops `spool run` at once.
  openai_client(boost::asio::any_io_executor ex, openai_options options);
  ~openai_client() override;

  boost::asio::awaitable<chat_result> complete(chat_request request) override;
  std::string name() const override;

  const inference_metrics& metrics() const;
  std::size_t idle_connections() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace spool::kinds::ai
