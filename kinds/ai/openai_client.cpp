#include "kinds/ai/openai_client.hpp"

#include <openssl/ssl.h>
#include <spool/version.hpp>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/system/system_error.hpp>
#include <stdexcept>

#include "kinds/ai/concurrency_limit.hpp"
#include "kinds/http_client/connection_pool.hpp"
#include "kinds/ai/error_map.hpp"
#include "kinds/ai/http_endpoint.hpp"
#include "kinds/http_client/http_connection.hpp"
#include "kinds/ai/inference_metrics.hpp"
#include "kinds/ai/openai_wire.hpp"
#include "kinds/ai/prompt.hpp"

namespace spool::kinds::ai {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using error_code = boost::system::error_code;
using steady = std::chrono::steady_clock;
using http_client::connection_pool;
using http_client::http_connection;

namespace {

constexpr std::size_t max_error_body = 2000;

http_endpoint endpoint_of(const std::string& url) {
  auto ep = parse_endpoint(url);
  if (auto* why = std::get_if<std::string>(&ep)) throw std::invalid_argument("inference.url: " + *why);
  return std::get<http_endpoint>(std::move(ep));
}

std::optional<asio::ssl::context> tls_context(const http_endpoint& ep, const openai_options& o) {
  if (!ep.tls) return std::nullopt;
  try {
    std::optional<asio::ssl::context> ctx(std::in_place, asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    if (o.ca_file) ctx->load_verify_file(*o.ca_file);
    else ctx->set_default_verify_paths();
    ctx->set_verify_mode(asio::ssl::verify_peer);
    return ctx;
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("cannot set up TLS for " + o.url +
                             (o.ca_file ? " with CA file '" + *o.ca_file + "'" : "") + ": " +
                             e.code().message());
  }
}

// An idle connection the server has closed in the meantime fails like this, before any answer.
bool stale_connection(const error_code& ec) {
  return ec == asio::error::eof || ec == bhttp::error::end_of_stream ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted;
}

std::string excerpt(std::string_view body) {
  auto cut = utf8_prefix(body, max_error_body);
  std::string out(cut);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) out.pop_back();
  if (cut.size() < body.size()) out += "...";
  return out;
}

asio::awaitable<bool> was_cancelled() {
  const auto state = co_await asio::this_coro::cancellation_state;
  co_return state.cancelled() != asio::cancellation_type::none;
}

}  // namespace

struct openai_client::impl {
  impl(asio::any_io_executor executor, openai_options o)
      : ex(std::move(executor)),
        options(std::move(o)),
        ep(endpoint_of(options.url)),
        tls(tls_context(ep, options)),
        limit(ex, options.max_concurrency),
        pool(static_cast<std::size_t>(options.max_concurrency), options.max_idle),
        stats(inference_metrics_for("openai", options.model)) {}

  asio::any_io_executor ex;
  openai_options options;
  http_endpoint ep;
  std::optional<asio::ssl::context> tls;
  concurrency_limit limit;
  connection_pool pool;
  inference_metrics& stats;

  inference_failure failure(failure_class c, std::string what) const {
    return {c, std::move(what), 0, {}, std::nullopt};
  }

  inference_failure cancelled() const {
    return failure(failure_class::cancelled, "request to " + options.url + " cancelled");
  }

  // An I/O error while connecting (`connecting`) or exchanging.
  inference_failure io_failure(const error_code& ec, bool connecting) const {
    if (ec == beast::error::timeout) {
      const auto secs = std::chrono::duration<double>(options.timeout).count();
      return failure(failure_class::timeout, "no complete answer from " + options.url + " within " +
                                                 std::to_string(secs) + " s");
    }
    if (ec == bhttp::error::body_limit)
      return failure(failure_class::bad_response,
                     options.url + " answered with more than " +
                         std::to_string(options.max_response_bytes) + " bytes");
    if (connecting)
      return failure(failure_class::connect, "cannot connect to " + options.url + ": " + ec.message());
    return failure(failure_class::network, "connection to " + options.url + " failed: " + ec.message());
  }

  http_connection::request make_request(const chat_request& r) const {
    http_connection::request req{bhttp::verb::post, ep.target, 11};
    req.set(bhttp::field::host, ep.host_header);
    req.set(bhttp::field::user_agent, "spool/" SPOOL_VERSION);
    req.set(bhttp::field::content_type, "application/json");
    req.set(bhttp::field::accept, "application/json");
    if (options.api_key) req.set(bhttp::field::authorization, "Bearer " + *options.api_key);
    req.keep_alive(true);
    req.body() = completion_body(r, options.model);
    req.prepare_payload();
    return req;
  }

  chat_result interpret(const http_connection::response& res) const {
    const unsigned status = res.result_int();
    if (status >= 200 && status <= 299) {
      auto parsed = parse_completion(res.body());
      if (auto* reply = std::get_if<chat_reply>(&parsed)) return std::move(*reply);
      return inference_failure{failure_class::bad_response,
                               options.url + " answered HTTP " + std::to_string(status) + " but " +
                                   std::get<std::string>(parsed),
                               status, excerpt(res.body()), std::nullopt};
    }
    inference_failure f{classify_status(status),
                        "HTTP " + std::to_string(status) + " " + std::string(res.reason()) +
                            " from " + options.url,
                        status, excerpt(res.body()), std::nullopt};
    if (auto it = res.find(bhttp::field::retry_after); it != res.end())
      f.retry_after = parse_retry_after(it->value(), std::chrono::system_clock::now());
    return f;
  }

  std::unique_ptr<http_connection> fresh_connection() {
    return tls ? std::make_unique<http_connection>(ex, *tls) : std::make_unique<http_connection>(ex);
  }

  asio::awaitable<chat_result> exchange(const chat_request& r) {
    if (!co_await limit.acquire()) co_return cancelled();
    concurrency_limit::held slot(limit);
    const auto req = make_request(r);
    const auto deadline = steady::now() + options.timeout;
    // A pooled connection may have been closed by the server while idle: a failure before any
    // answer byte on such a one is retried once on a new connection (the request had no effect).
    for (bool may_retry = true;; may_retry = false) {
      auto conn = may_retry ? pool.take(steady::now()) : nullptr;
      const bool reused = conn != nullptr;
      if (!conn) {
        conn = fresh_connection();
        const auto ec = co_await conn->open(ep, deadline);
        if (co_await was_cancelled()) co_return cancelled();
        if (ec) co_return io_failure(ec, true);
      }
      auto got = co_await conn->exchange(req, options.max_response_bytes, deadline);
      if (co_await was_cancelled()) co_return cancelled();  // conn is dropped: the socket closes
      if (got.ec) {
        if (reused && may_retry && !got.answered && stale_connection(got.ec)) continue;
        co_return io_failure(got.ec, false);
      }
      if (got.reusable) pool.put(std::move(conn), steady::now());
      co_return interpret(got.res);
    }
  }
};

openai_client::openai_client(asio::any_io_executor ex, openai_options options)
    : impl_(std::make_unique<impl>(std::move(ex), std::move(options))) {}

openai_client::~openai_client() = default;

std::string openai_client::name() const { return "openai:" + impl_->options.model; }

const inference_metrics& openai_client::metrics() const { return impl_->stats; }

std::size_t openai_client::idle_connections() const { return impl_->pool.idle(); }

asio::awaitable<chat_result> openai_client::complete(chat_request request) {
  const auto started = steady::now();
  std::optional<chat_result> result;
  try {
    result = co_await impl_->exchange(request);
  } catch (const boost::system::system_error& e) {
    // A co_await in a coroutine whose cancellation was already requested throws this.
    if (e.code() != asio::error::operation_aborted) throw;
  }
  if (!result) result = impl_->cancelled();
  const double seconds = std::chrono::duration<double>(steady::now() - started).count();
  if (auto* reply = std::get_if<chat_reply>(&*result))
    impl_->stats.record(seconds, std::nullopt, reply->prompt_tokens, reply->completion_tokens);
  else
    impl_->stats.record(seconds, std::get<inference_failure>(*result).kind);
  co_return std::move(*result);
}

}  // namespace spool::kinds::ai
