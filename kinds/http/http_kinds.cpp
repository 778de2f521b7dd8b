#include "kinds/http/http_kinds.hpp"

#include <openssl/ssl.h>
#include <spool/version.hpp>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/system/system_error.hpp>
#include <cmath>

#include "kinds/http/response_map.hpp"
#include "kinds/http/signature.hpp"
#include "kinds/http_client/connection_pool.hpp"
#include "kinds/http_client/http_connection.hpp"

namespace spool::kinds::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using error_code = boost::system::error_code;
using steady = std::chrono::steady_clock;
using http_client::connection_pool;
using http_client::http_connection;

namespace {

constexpr std::size_t max_answer_bytes = 1 << 20;
constexpr std::size_t max_idle_connections = 256;
constexpr std::chrono::seconds max_idle_time{30};

// An idle connection the server has closed in the meantime fails like this, before any answer.
bool stale_connection(const error_code& ec) {
  return ec == asio::error::eof || ec == bhttp::error::end_of_stream ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted;
}

asio::awaitable<bool> was_cancelled() {
  const auto state = co_await asio::this_coro::cancellation_state;
  co_return state.cancelled() != asio::cancellation_type::none;
}

std::string quoted(std::string_view s) { return boost::json::serialize(boost::json::string(s)); }

asio::awaitable<jobs::outcome> run_kind(std::shared_ptr<http_kind> kind, jobs::job_context& ctx) {
  co_return co_await kind->run(ctx);
}

asio::awaitable<jobs::outcome> not_runnable_here(jobs::job_context&) {
  throw jobs::permanent_error("HTTP kinds run only where they were registered with an executor");
  co_return jobs::outcome::success();
}

}  // namespace

std::string request_body(const jobs::claimed_job& job, std::string_view progress_url,
                         std::span<const jobs::parent_result> parents) {
  // The payload was checked to be a JSON object at enqueue: it goes in as stored.
  std::string b;
  b.reserve(job.payload.size() + job.kind.size() + job.queue.size() + progress_url.size() + 112);
  b += "{\"id\":" + std::to_string(job.id) + ",\"kind\":" + quoted(job.kind) +
       ",\"attempt\":" + std::to_string(job.attempt) + ",\"payload\":" + job.payload +
       ",\"queue\":" + quoted(job.queue) + ",\"max_attempts\":" + std::to_string(job.max_attempts);
  if (!progress_url.empty()) b += ",\"progress_url\":" + quoted(progress_url);
  if (job.has_parents) {
    // Results are JSON as stored; a parent without one (or pruned) has null.
    b += ",\"parents\":[";
    for (std::size_t i = 0; i < parents.size(); ++i)
      b += std::string(i ? "," : "") + "{\"id\":" + std::to_string(parents[i].id) +
           ",\"result\":" + parents[i].result.value_or("null") + "}";
    b += "]";
  }
  return b + "}";
}

std::string callback_base(const config::http_kind_settings& kind, std::string_view admin_base) {
  if (!kind.callback_url) return std::string(admin_base);
  auto url = *kind.callback_url;
  while (url.ends_with('/')) url.pop_back();
  return url;
}

std::string admin_base_url(std::string_view address, unsigned short port) {
  // A wildcard address listens on loopback too, and is no address to call.
  std::string host(address);
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::" || host == "[::]") host = "::1";
  if (host.find(':') != std::string::npos && !host.starts_with('[')) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(port);
}

jobs::kind_options http_kind_options(const config::http_kind_settings& s) {
  jobs::kind_options o;
  o.timeout = std::chrono::duration_cast<jobs::duration>(std::chrono::duration<double>(s.timeout_s + 5));
  return o;
}

struct http_kind::impl {
  asio::any_io_executor ex;
  config::http_kind_settings settings;
  http_client::endpoint ep;
  std::optional<std::string> secret;
  std::optional<asio::ssl::context> tls;
  connection_pool pool{max_idle_connections, max_idle_time};
  steady::duration timeout;
  std::function<std::string()> admin_base;  // the admin API as bound, or "" when it is off

  http_connection::request make_request(const jobs::job_context& ctx,
                                        std::span<const jobs::parent_result> parents) const {
    const auto& job = ctx.job();
    http_connection::request req{bhttp::verb::post, ep.target, 11};
    for (auto& [name, value] : settings.headers) req.set(name, value);
    req.set(bhttp::field::host, ep.host_header);
    req.set(bhttp::field::user_agent, "spool/" SPOOL_VERSION);
    req.set(bhttp::field::content_type, "application/json");
    req.set(bhttp::field::accept, "application/json");
    req.set("X-Spool-Job-Id", std::to_string(job.id));
    req.set("X-Spool-Attempt", std::to_string(job.attempt));
    req.keep_alive(true);
    std::string progress_url;
    const auto callback = callback_base(settings, admin_base ? admin_base() : std::string());
    if (!callback.empty()) {
      // The attempt's own token: the application reports progress with it until the attempt ends.
      req.set("X-Spool-Attempt-Token", ctx.attempt_token());
      progress_url = callback + "/api/v1/jobs/" + std::to_string(job.id) + "/progress";
    }
    req.body() = request_body(job, progress_url, parents);
    if (secret) {
      const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
      const auto timestamp = std::to_string(now.time_since_epoch().count());
      req.set("X-Spool-Timestamp", timestamp);
      req.set("X-Spool-Signature", signature(*secret, timestamp, req.body()));
    }
    req.prepare_payload();
    return req;
  }

  std::unique_ptr<http_connection> fresh_connection() {
    return tls ? std::make_unique<http_connection>(ex, *tls) : std::make_unique<http_connection>(ex);
  }

  static answer failed(const error_code& ec, bool connecting) {
    answer a;
    a.detail = ec.message();
    if (ec == beast::error::timeout) a.got = answer::how::timeout;
    else if (connecting) a.got = answer::how::connect_failed;
    else a.got = answer::how::network_failed;
    if (ec == bhttp::error::body_limit)
      a.detail = "an answer of more than " + std::to_string(max_answer_bytes) + " bytes";
    return a;
  }

  // The exchange, or nothing when cancelled: then the connection is dropped (its socket closes)
  // and never goes back to the pool.
  asio::awaitable<std::optional<answer>> exchange(const http_connection::request& req) {
    const auto deadline = steady::now() + timeout;
    // A pooled connection may have been closed by the server while idle: a failure before any
    // answer byte on such a one is retried once on a new connection (the request had no effect).
    for (bool may_retry = true;; may_retry = false) {
      auto conn = may_retry ? pool.take(steady::now()) : nullptr;
      const bool reused = conn != nullptr;
      if (!conn) {
        conn = fresh_connection();
        const auto ec = co_await conn->open(ep, deadline);
        if (co_await was_cancelled()) co_return std::nullopt;
        if (ec) co_return failed(ec, true);
      }
      auto got = co_await conn->exchange(req, max_answer_bytes, deadline);
      if (co_await was_cancelled()) co_return std::nullopt;
      if (got.ec) {
        if (reused && may_retry && !got.answered && stale_connection(got.ec)) continue;
        co_return failed(got.ec, false);
      }
      if (got.reusable) pool.put(std::move(conn), steady::now());
      answer a;
      a.status = got.res.result_int();
      if (auto it = got.res.find(bhttp::field::retry_after); it != got.res.end())
        a.retry_after = std::string(it->value());
      a.body = std::move(got.res.body());
      co_return a;
    }
  }
};

http_kind::http_kind(asio::any_io_executor ex, const config::http_kind_settings& s, std::size_t index,
                     const config::settings& all, const std::function<const char*(const char*)>& getenv,
                     std::function<std::string()> admin_base)
    : impl_(std::make_unique<impl>()) {
  impl_->admin_base = std::move(admin_base);
  const std::string at = "http_kinds[" + std::to_string(index) + "]";
  impl_->ex = std::move(ex);
  impl_->settings = s;
  auto parsed = http_client::parse_url(s.url);
  if (auto* why = std::get_if<std::string>(&parsed)) throw config::config_error(all.where(at + ".url") + ": " + *why);
  impl_->ep = std::get<http_client::endpoint>(std::move(parsed));
  if (s.secret_env) {
    const char* value = getenv(s.secret_env->c_str());
    if (!value || !*value)
      throw config::config_error(all.where(at + ".secret_env") + ": environment variable " + *s.secret_env +
                                 " is not set (it holds the secret that signs kind " + s.kind + "'s requests)");
    impl_->secret = value;
  }
  if (impl_->ep.tls) {
    impl_->tls.emplace(asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(impl_->tls->native_handle(), TLS1_2_VERSION);
    impl_->tls->set_default_verify_paths();
    impl_->tls->set_verify_mode(asio::ssl::verify_peer);
  }
  impl_->timeout = std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(s.timeout_s));
}

http_kind::~http_kind() = default;

std::size_t http_kind::idle_connections() const { return impl_->pool.idle(); }

asio::awaitable<jobs::outcome> http_kind::run(jobs::job_context& ctx) {
  std::vector<jobs::parent_result> parents;
  if (ctx.job().has_parents) parents = co_await ctx.parent_results();
  const auto req = impl_->make_request(ctx, parents);
  std::optional<answer> got;
  try {
    got = co_await impl_->exchange(req);
  } catch (const boost::system::system_error& e) {
    // A co_await in a coroutine whose cancellation was already requested throws this.
    if (e.code() != asio::error::operation_aborted) throw;
  }
  // The runtime turns this into what the cancellation meant (cancelled, a timeout, a requeue).
  if (!got) co_return jobs::outcome::cancel("request to " + impl_->settings.url + " aborted");
  const auto max_snooze = std::chrono::seconds(static_cast<std::int64_t>(impl_->settings.max_snooze_s));
  auto out = map_answer(*got, impl_->settings.url, std::chrono::system_clock::now(), max_snooze);
  // No job results yet: a successful answer's body goes to the job's log line.
  if (out.kind == jobs::outcome::type::succeeded && !got->body.empty())
    ctx.log("http kind answered " + std::to_string(got->status) + ": " + excerpt(got->body));
  co_return out;
}

void register_http_kinds(jobs::registry& reg, const config::settings& settings,
                         std::optional<asio::any_io_executor> ex,
                         const std::function<const char*(const char*)>& getenv,
                         const std::function<std::string()>& admin_base) {
  for (std::size_t i = 0; i < settings.http_kinds.size(); ++i) {
    const auto& s = settings.http_kinds[i];
    if (reg.find(s.kind))
      throw config::config_error(settings.where("http_kinds[" + std::to_string(i) + "].kind") + ": '" +
                                 s.kind + "' is already a kind of this binary");
    if (!ex) {
      reg.add(s.kind, not_runnable_here, http_kind_options(s));
      continue;
    }
    auto kind = std::make_shared<http_kind>(*ex, s, i, settings, getenv, admin_base);
    // A plain lambda that calls the coroutine: the frame gets the shared_ptr as a parameter.
    reg.add(s.kind, [kind](jobs::job_context& ctx) { return run_kind(kind, ctx); }, http_kind_options(s));
  }
}

}  // namespace spool::kinds::http
