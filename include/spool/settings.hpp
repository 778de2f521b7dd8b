#pragma once
// Spool's typed settings: defaults < config file (JSON) < environment (SPOOL_*) < flags.
// Every loader names the key it rejects (config_error).
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spool/errors.hpp>

namespace spool::config {

// Where a setting's value came from, so that an error can point at it.
struct origin {
  enum class layer { file, env, flag };
  layer from = layer::file;
  std::string source;  // the file's name, the variable (SPOOL_HTTP) or the flag (--http)
  // "config file F, key K", "environment variable SPOOL_K" or "flag --k"
  std::string describe(std::string_view key) const;
};

// Per-kind overrides of the policy a kind was registered with.
struct kind_settings {
  std::optional<double> retry_base_s;
  std::optional<double> retry_cap_s;
  std::optional<double> retry_jitter;
  std::optional<int> max_attempts;
  std::optional<double> timeout_s;
  std::optional<int> max_snoozes;            // snoozes a job may take (100)
  std::optional<double> max_snooze_total_s;  // their delays summed (86400)
};

// The inference backend of the built-in AI kinds (activity_processing, profile_generation).
struct inference_settings {
  std::string backend = "local";  // local (built-in stand-in) | openai (an OpenAI-compatible server)
  // http or https, the server's root or its /v1 base; required by the openai backend (no default:
  // llama-server's usual port 8080 is also Spool's admin port).
  std::string url;
  std::string model;                          // required by the openai backend
  std::optional<std::string> api_key;         // sent as "Authorization: Bearer KEY"
  std::optional<std::string> ca_file;         // PEM bundle to trust instead of the system's
  double timeout_s = 120;                     // one HTTP exchange, connect to last byte
  int max_concurrency = 4;                    // model requests in flight, across all jobs
};

// How profile_generation follows the activities it summarises.
struct profile_settings {
  double debounce_s = 10;  // a burst of activities yields one profile job, this long after the first
  int latest_n = 50;       // the user's most recent processed activities a profile is built from
};

// How long finished jobs are kept before the pruner deletes them, in seconds; -1 keeps forever.
struct retention_override {
  std::optional<double> completed_s, cancelled_s, dead_s;
};
struct retention_settings {
  double completed_s = 86400;
  double cancelled_s = 86400;
  double dead_s = 604800;
  double interval_s = 60;  // how often the pruner runs (on the leader)
  std::map<std::string, retention_override> queues;  // queues kept differently
};

// A periodic job: its schedule and the job each tick enqueues (README, "Periodic jobs").
struct periodic_settings {
  std::string name;                 // unique among schedules; names the schedule's stored last tick
  std::string cron;                 // "0 3 * * *", "*/10 * * * * *" (seconds first), "@daily", "@every 30s"
  std::string timezone = "UTC";     // an IANA name, such as Europe/Berlin
  std::string kind;
  std::string queue = "default";
  std::string payload = "{}";       // a JSON object
  int priority = 0;
  int max_attempts = 0;             // 0: the kind's policy decides
  std::string catch_up = "one";     // after downtime: "one" runs the latest missed tick, "none" none
};

// A kind whose jobs run in another process: each attempt is POSTed to `url` as JSON, and the
// answer decides the outcome (README, "HTTP kinds"). Queue concurrency and the `kinds` overrides
// apply to it as to any kind.
struct http_kind_settings {
  std::string kind;
  std::string url;                             // http:// or https://, path and query kept
  double timeout_s = 60;                       // one request, connect to last byte
  std::map<std::string, std::string> headers;  // sent with every request
  // The environment variable holding the HMAC secret that signs each request; none: unsigned.
  std::optional<std::string> secret_env;
  double max_snooze_s = 3600;  // the most a Retry-After or {"outcome":"snooze"} may delay a job
  // This node's admin API as the application reaches it, for the request's "progress_url";
  // by default http://HOST:PORT of `http` (a wildcard address as loopback). Unset with http "off":
  // no callback then.
  std::optional<std::string> callback_url;
};

// A concurrency limit that holds across every node sharing the database (README, "Limits"): at
// most `concurrency` jobs of `kind` (any kind if empty) in `queue` (any queue if empty) run at
// once; with `partition_by` ("payload.user_id") that many per value of the field. Every node
// must carry the same limits: each enforces those it knows in its own claims.
struct limit_settings {
  std::string kind;
  std::string queue;
  int concurrency = 0;
  std::string partition_by;
};

struct settings {
  std::string db = "sqlite:spool.db";
  int workers = 0;  // io_context threads; 0 = one per core
  std::map<std::string, int> queues{{"default", 100}};  // queue -> concurrency
  double grace_s = 30;          // in-flight jobs may finish for this long on shutdown
  double poll_interval_s = 1;   // fallback poll for jobs written by other processes
  double lease_s = 30;          // a claimed job's lease; renewed every lease_s / 3
  double rescue_interval_s = 10;  // how often expired leases are looked for (by the leader)
  // "full": an acknowledged enqueue is on disk. "relaxed": it is in the OS (SQLite) or server
  // (PostgreSQL) memory: safe across a crash of Spool, not across a power loss or OS crash.
  std::string enqueue_durability = "full";
  int db_pool = 0;  // database connections, each on its own thread; 0 = 1 for SQLite, 4 for PostgreSQL
  // Maintenance (the rescuer, pruning silent nodes) runs on one leader node; a leader that stops
  // renewing is replaced after this long. Renewed every leader_ttl_s / 3, with the node heartbeat.
  double leader_ttl_s = 5;
  std::string log_format = "text";  // text | json
  std::string log_level = "info";   // debug | info | warn | error
  bool diagnostic_kinds = false;
  // Enqueue a kind no live node runs (else refused: 422, `spool enqueue` exit 1).
  bool allow_unknown_kinds = false;
  // The largest result a job may return (outcome::success(json)); a larger one fails the attempt.
  std::size_t result_max_bytes = 64 * 1024;
  std::map<std::string, kind_settings> kinds;
  // Periodic jobs, enqueued by the leader at each tick (one job per tick across all nodes).
  std::vector<periodic_settings> periodic;
  // Kinds run by an application over HTTP (registered by the `spool` binary, kinds/http).
  std::vector<http_kind_settings> http_kinds;
  // Concurrency limits across the cluster, checked in every claim (see limit_settings).
  std::vector<limit_settings> limits;

  // Admin HTTP endpoint.
  std::string http = "127.0.0.1:8080";  // HOST:PORT, or "off"
  std::optional<std::string> admin_token;
  bool metrics_require_token = true;  // with a token set: /metrics needs it too
  double http_session_ttl_s = 28800;  // a dashboard sign-in lasts this long
  std::size_t http_max_body = 1 << 20;
  int http_max_connections = 512;
  double http_timeout_s = 10;

  retention_settings retention;
  inference_settings inference;
  profile_settings profiles;

  // Top-level key ("queues", "inference.url") -> the layer that set it last; defaults are absent.
  std::map<std::string, origin, std::less<>> origins;
  // Where `key` ("queues.default", "kinds.fail.max_attempts") was set, for an error message.
  std::string where(std::string_view key) const;
};

// Applies a JSON config document; `source` names it in errors.
void apply_json(settings& s, std::string_view text, std::string_view source);
void apply_file(settings& s, const std::string& path);
// Applies SPOOL_* variables read through `getenv`.
void apply_env(settings& s, const std::function<const char*(const char*)>& getenv);
// Checks ranges and names; throws config_error naming the key and where its value came from.
void validate(const settings& s);

}  // namespace spool::config
