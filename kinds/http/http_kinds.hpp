#pragma once
// Kinds run by an application over HTTP (config `http_kinds`, README "HTTP kinds"): each attempt
// of a job is POSTed as JSON to the kind's URL, over the shared Beast client (kinds/http_client:
// keep-alive pool, TLS, cancellation), and the answer decides the outcome (response_map.hpp).
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "config/config.hpp"
#include "jobs/registry.hpp"

namespace spool::kinds::http {

// One HTTP kind's client: its endpoint, secret, TLS context and pool of connections.
class http_kind {
 public:
  // Throws config::config_error naming `http_kinds[index].FIELD` for a URL that cannot be used or
  // a secret_env naming a variable that is not set (read through `getenv`).
  // `admin_base` answers the admin API's base URL once it listens ("" when it is off): the
  // requests' progress_url, unless the kind sets callback_url.
  http_kind(boost::asio::any_io_executor ex, const config::http_kind_settings& settings,
            std::size_t index, const config::settings& all,
            const std::function<const char*(const char*)>& getenv,
            std::function<std::string()> admin_base = {});
  ~http_kind();

  // One attempt: the request, its answer, and the outcome the answer means. Cancellation (the
  // job's timeout, an operator's cancel, shutdown) closes the connection at once.
  boost::asio::awaitable<jobs::outcome> run(jobs::job_context& ctx);

  std::size_t idle_connections() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// The JSON an attempt POSTs: {"id","kind","attempt","payload","queue","max_attempts"},
// "progress_url" where the application can report progress (with the X-Spool-Attempt-Token
// header), and for a job with parents "parents": [{"id", "result"}] (result null without one).
std::string request_body(const jobs::claimed_job& job, std::string_view progress_url = {},
                         std::span<const jobs::parent_result> parents = {});

// The admin API's base URL as the kind's application reaches it: callback_url, else `admin_base`
// (the endpoint as bound; "" when it is off: then no progress_url and no token).
std::string callback_base(const config::http_kind_settings& kind, std::string_view admin_base);
// "http://HOST:PORT" of an endpoint bound to `address`, a wildcard address as loopback.
std::string admin_base_url(std::string_view address, unsigned short port);

// The kinds' policy: the request's own timeout fires first (a clear error), the job's a little
// later; the default retry policy otherwise. The config's `kinds` entries override both.
jobs::kind_options http_kind_options(const config::http_kind_settings& settings);

// Registers every kind of settings.http_kinds, their requests made on `ex` (the runtime's
// io_context). Without `ex` the kinds are registered for enqueue checks and listings only, and
// their secrets are not looked up.
void register_http_kinds(jobs::registry& reg, const config::settings& settings,
                         std::optional<boost::asio::any_io_executor> ex,
                         const std::function<const char*(const char*)>& getenv,
                         const std::function<std::string()>& admin_base = {});

}  // namespace spool::kinds::http
