#include "config/keys.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <optional>
#include <type_traits>

namespace spool::config {
namespace json = boost::json;

namespace {

[[noreturn]] void fail(const origin& o, std::string_view key, std::string_view why) {
  throw config_error(o.describe(key) + ": " + std::string(why));
}

template <class T>
T from_value(const json::value& v, const origin& o, std::string_view key) {
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_bool()) fail(o, key, "must be true or false");
    return v.get_bool();
  } else if constexpr (std::is_same_v<T, int> || std::is_same_v<T, std::size_t>) {
    // size_t settings take no negative value; ints outside 32 bits are refused as not integers.
    const std::int64_t low = std::is_same_v<T, int> ? INT32_MIN : 0;
    if (v.is_int64() && v.get_int64() >= low && v.get_int64() <= INT32_MAX)
      return static_cast<T>(v.get_int64());
    if (v.is_uint64() && v.get_uint64() <= INT32_MAX) return static_cast<T>(v.get_uint64());
    fail(o, key, "must be an integer");
  } else if constexpr (std::is_same_v<T, double>) {
    if (v.is_double()) return v.get_double();
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    fail(o, key, "must be a number");
  } else {
    if (!v.is_string()) fail(o, key, "must be a string");
    return std::string(v.get_string());
  }
}

template <class T>
T from_text(std::string_view text, const origin& o, std::string_view key) {
  const auto quoted = "'" + std::string(text) + "'";
  if constexpr (std::is_same_v<T, bool>) {
    if (text == "1" || text == "true") return true;
    if (text == "0" || text == "false") return false;
    fail(o, key, quoted + " must be 1, 0, true or false");
  } else if constexpr (std::is_arithmetic_v<T>) {
    T out{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
      fail(o, key, quoted + (std::is_floating_point_v<T> ? " is not a number" : " is not an integer"));
    return out;
  } else {
    return std::string(text);
  }
}

// A row for a plain value reached through `get` (a reference into settings).
template <class Get>
key_spec row(std::string_view json_key, std::string_view env, std::string_view flag,
             std::string_view value_name, std::string_view help, Get get) {
  using field = std::remove_cvref_t<decltype(get(std::declval<settings&>()))>;
  using T = std::conditional_t<std::is_same_v<field, std::optional<std::string>>, std::string, field>;
  key_spec k{json_key, env, flag, help, value_name, nullptr, nullptr};
  k.from_json = [get, json_key](settings& s, const json::value& v, const origin& o) {
    get(s) = from_value<T>(v, o, json_key);
  };
  k.from_text = [get, json_key](settings& s, std::string_view t, const origin& o) {
    get(s) = from_text<T>(t, o, json_key);
  };
  return k;
}

#define SPOOL_FIELD(path) [](settings& s) -> auto& { return s.path; }

void queues_from_json(settings& s, const json::value& v, const origin& o) {
  if (!v.is_object()) fail(o, "queues", "must be an object of queue name -> concurrency");
  s.queues.clear();
  for (auto& [q, c] : v.get_object()) {
    const auto key = "queues." + std::string(q);
    s.queues[std::string(q)] = from_value<int>(c, o, key);
  }
}

// "default=20,ai=4", or the values of repeated --queue flags joined by commas.
void queues_from_text(settings& s, std::string_view text, const origin& o) {
  s.queues.clear();
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto spec = text.substr(0, comma);
    const auto eq = spec.find('=');
    if (eq == std::string_view::npos)
      fail(o, "queues", "'" + std::string(spec) + "' is not NAME=CONCURRENCY");
    const std::string name(spec.substr(0, eq));
    s.queues[name] = from_text<int>(spec.substr(eq + 1), o, "queues." + name);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
}

void kinds_from_json(settings& s, const json::value& v, const origin& o) {
  if (!v.is_object()) fail(o, "kinds", "must be an object of kind name -> settings");
  for (auto& [name, ks] : v.get_object()) {
    const std::string prefix = "kinds." + std::string(name);
    if (!ks.is_object()) fail(o, prefix, "must be an object");
    auto& k = s.kinds[std::string(name)];
    for (auto& [field, fv] : ks.get_object()) {
      const std::string key = prefix + "." + std::string(field);
      if (field == "retry_base_s") k.retry_base_s = from_value<double>(fv, o, key);
      else if (field == "retry_cap_s") k.retry_cap_s = from_value<double>(fv, o, key);
      else if (field == "retry_jitter") k.retry_jitter = from_value<double>(fv, o, key);
      else if (field == "max_attempts") k.max_attempts = from_value<int>(fv, o, key);
      else if (field == "timeout_s") k.timeout_s = from_value<double>(fv, o, key);
      else if (field == "max_snoozes") k.max_snoozes = from_value<int>(fv, o, key);
      else if (field == "max_snooze_total_s") k.max_snooze_total_s = from_value<double>(fv, o, key);
      else {
        std::string known;
        for (auto n : kind_keys) known += (known.empty() ? "" : ", ") + std::string(n);
        fail(o, key, "unknown key (known: " + known + ")");
      }
    }
  }
}

void retention_queues_from_json(settings& s, const json::value& v, const origin& o) {
  if (!v.is_object()) fail(o, "retention.queues", "must be an object of queue name -> retention");
  for (auto& [q, qv] : v.get_object()) {
    const std::string prefix = "retention.queues." + std::string(q);
    if (!qv.is_object()) fail(o, prefix, "must be an object");
    auto& r = s.retention.queues[std::string(q)];
    for (auto& [field, fv] : qv.get_object()) {
      const std::string key = prefix + "." + std::string(field);
      if (field == "completed_s") r.completed_s = from_value<double>(fv, o, key);
      else if (field == "cancelled_s") r.cancelled_s = from_value<double>(fv, o, key);
      else if (field == "dead_s") r.dead_s = from_value<double>(fv, o, key);
      else fail(o, key, "unknown key (known: completed_s, cancelled_s, dead_s)");
    }
  }
}

// "periodic": [{"name", "cron", "timezone", "kind", "queue", "payload", "priority",
// "max_attempts", "catch_up"}, ...]; the values are checked by validate().
void periodic_from_json(settings& s, const json::value& v, const origin& o) {
  if (!v.is_array()) fail(o, "periodic", "must be an array of schedules");
  s.periodic.clear();
  for (std::size_t i = 0; i < v.get_array().size(); ++i) {
    const auto& e = v.get_array()[i];
    const std::string prefix = "periodic[" + std::to_string(i) + "]";
    if (!e.is_object()) fail(o, prefix, "must be an object");
    periodic_settings p;
    bool named = false, timed = false, kinded = false;
    for (auto& [field, fv] : e.get_object()) {
      const std::string key = prefix + "." + std::string(field);
      if (field == "name") p.name = from_value<std::string>(fv, o, key), named = true;
      else if (field == "cron") p.cron = from_value<std::string>(fv, o, key), timed = true;
      else if (field == "timezone") p.timezone = from_value<std::string>(fv, o, key);
      else if (field == "kind") p.kind = from_value<std::string>(fv, o, key), kinded = true;
      else if (field == "queue") p.queue = from_value<std::string>(fv, o, key);
      else if (field == "payload") {
        if (!fv.is_object()) fail(o, key, "must be a JSON object");
        p.payload = json::serialize(fv);
      } else if (field == "priority") p.priority = from_value<int>(fv, o, key);
      else if (field == "max_attempts") p.max_attempts = from_value<int>(fv, o, key);
      else if (field == "catch_up") p.catch_up = from_value<std::string>(fv, o, key);
      else
        fail(o, key,
             "unknown key (known: name, cron, timezone, kind, queue, payload, priority, max_attempts, "
             "catch_up)");
    }
    if (!named) fail(o, prefix + ".name", "is required");
    if (!timed) fail(o, prefix + ".cron", "is required");
    if (!kinded) fail(o, prefix + ".kind", "is required");
    s.periodic.push_back(std::move(p));
  }
}

// "http_kinds": [{"kind", "url", "timeout_s", "headers": {NAME: VALUE}, "secret_env",
// "max_snooze_s", "callback_url"}, ...]; the values are checked by validate().
void http_kinds_from_json(settings& s, const json::value& v, const origin& o) {
  if (!v.is_array()) fail(o, "http_kinds", "must be an array of kinds");
  s.http_kinds.clear();
  for (std::size_t i = 0; i < v.get_array().size(); ++i) {
    const auto& e = v.get_array()[i];
    const std::string prefix = "http_kinds[" + std::to_string(i) + "]";
    if (!e.is_object()) fail(o, prefix, "must be an object");
    http_kind_settings h;
    bool kinded = false, located = false;
    for (auto& [field, fv] : e.get_object()) {
      const std::string key = prefix + "." + std::string(field);
      if (field == "kind") h.kind = from_value<std::string>(fv, o, key), kinded = true;
      else if (field == "url") h.url = from_value<std::string>(fv, o, key), located = true;
      else if (field == "timeout_s") h.timeout_s = from_value<double>(fv, o, key);
      else if (field == "secret_env") h.secret_env = from_value<std::string>(fv, o, key);
      else if (field == "max_snooze_s") h.max_snooze_s = from_value<double>(fv, o, key);
      else if (field == "callback_url") h.callback_url = from_value<std::string>(fv, o, key);
      else if (field == "headers") {
        if (!fv.is_object()) fail(o, key, "must be an object of header name -> value");
        for (auto& [name, hv] : fv.get_object())
          h.headers[std::string(name)] = from_value<std::string>(hv, o, key + "." + std::string(name));
      } else
        fail(o, key, "unknown key (known: kind, url, timeout_s, headers, secret_env, max_snooze_s, callback_url)");
    }
    if (!kinded) fail(o, prefix + ".kind", "is required");
    if (!located) fail(o, prefix + ".url", "is required");
    s.http_kinds.push_back(std::move(h));
  }
}

// "limits": [{"kind", "queue", "concurrency", "partition_by"}, ...]; checked by validate().
void limits_from_json(settings& s, const json::value& v, const origin& o) {
  if (!v.is_array()) fail(o, "limits", "must be an array of limits");
  s.limits.clear();
  for (std::size_t i = 0; i < v.get_array().size(); ++i) {
    const auto& e = v.get_array()[i];
    const std::string prefix = "limits[" + std::to_string(i) + "]";
    if (!e.is_object()) fail(o, prefix, "must be an object");
    limit_settings l;
    bool bounded = false;
    for (auto& [field, fv] : e.get_object()) {
      const std::string key = prefix + "." + std::string(field);
      if (field == "kind") l.kind = from_value<std::string>(fv, o, key);
      else if (field == "queue") l.queue = from_value<std::string>(fv, o, key);
      else if (field == "concurrency") l.concurrency = from_value<int>(fv, o, key), bounded = true;
      else if (field == "partition_by") l.partition_by = from_value<std::string>(fv, o, key);
      else
        fail(o, key, "unknown key (known: kind, queue, concurrency, partition_by)");
    }
    if (!bounded) fail(o, prefix + ".concurrency", "is required");
    if (l.kind.empty() && l.queue.empty()) fail(o, prefix, "needs a kind, a queue or both");
    s.limits.push_back(std::move(l));
  }
}

std::vector<key_spec> make_keys() {
  std::vector<key_spec> k;
  k.push_back(row("db", "SPOOL_DB", "--db", "URL",
                  "Database URL: sqlite:PATH or postgresql://USER:PASSWORD@HOST:PORT/DB (sqlite:spool.db)",
                  SPOOL_FIELD(db)));
  k.push_back(row("workers", "SPOOL_WORKERS", "--workers", "N",
                  "io_context threads (default: cores, less one on SQLite)", SPOOL_FIELD(workers)));
  k.push_back({"queues", "SPOOL_QUEUES", "--queue",
               "Queue and its concurrency, repeatable; replaces the default set (default=100)",
               "NAME=CONC", queues_from_json, queues_from_text});
  k.push_back(row("grace_s", "SPOOL_GRACE_S", "--grace", "SECONDS",
                  "Seconds in-flight jobs may finish on shutdown (30)", SPOOL_FIELD(grace_s)));
  k.push_back(row("lease_s", "SPOOL_LEASE_S", "--lease", "SECONDS",
                  "Lease of a claimed job in seconds (30)", SPOOL_FIELD(lease_s)));
  k.push_back(row("poll_interval_s", "SPOOL_POLL_INTERVAL_S", "--poll", "SECONDS",
                  "Fallback poll interval in seconds (1)", SPOOL_FIELD(poll_interval_s)));
  auto rescue = row("rescue_interval_s", "", "", "SECONDS",
                    "How often the leader looks for expired leases (10)", SPOOL_FIELD(rescue_interval_s));
  rescue.from_text = nullptr;
  k.push_back(rescue);
  k.push_back(row("leader_ttl_s", "SPOOL_LEADER_TTL_S", "", "SECONDS",
                  "A silent leader is replaced after this long (5)", SPOOL_FIELD(leader_ttl_s)));
  k.push_back(row("db_pool", "SPOOL_DB_POOL", "", "N",
                  "Database connections, one thread each; 0 = auto", SPOOL_FIELD(db_pool)));
  k.push_back(row("enqueue_durability", "SPOOL_ENQUEUE_DURABILITY", "", "full|relaxed",
                  "full or relaxed (full)", SPOOL_FIELD(enqueue_durability)));
  k.push_back(row("log_format", "SPOOL_LOG_FORMAT", "--log-format", "text|json", "text or json (text)",
                  SPOOL_FIELD(log_format)));
  k.push_back(row("log_level", "SPOOL_LOG_LEVEL", "--log-level", "LEVEL",
                  "debug, info, warn or error (info)", SPOOL_FIELD(log_level)));
  k.push_back(row("diagnostic_kinds", "SPOOL_DIAGNOSTIC_KINDS", "--diagnostic-kinds", "",
                  "Register the diagnostic kinds: noop, sleep, fail, abort, throw, hang, hog, block",
                  SPOOL_FIELD(diagnostic_kinds)));
  k.push_back(row("result_max_bytes", "SPOOL_RESULT_MAX_BYTES", "", "BYTES",
                  "Largest result a job may return (64 KiB)", SPOOL_FIELD(result_max_bytes)));
  k.push_back(row("allow_unknown_kinds", "SPOOL_ALLOW_UNKNOWN_KINDS", "", "",
                  "Accept jobs of a kind no live node runs (false)", SPOOL_FIELD(allow_unknown_kinds)));
  k.push_back(row("http", "SPOOL_HTTP", "--http", "HOST:PORT",
                  "Admin endpoint HOST:PORT, or off (127.0.0.1:8080)", SPOOL_FIELD(http)));
  k.push_back(row("admin_token", "SPOOL_ADMIN_TOKEN", "--admin-token", "TOKEN",
                  "Bearer token for the admin API (none)", SPOOL_FIELD(admin_token)));
  auto file_only = [&](key_spec r) {
    r.from_text = nullptr;
    k.push_back(std::move(r));
  };
  file_only(row("metrics_require_token", "", "", "", "/metrics needs the token (true)",
                SPOOL_FIELD(metrics_require_token)));
  file_only(row("http_session_ttl_s", "", "", "SECONDS", "A dashboard sign-in lasts this long (28800)",
                SPOOL_FIELD(http_session_ttl_s)));
  file_only(row("http_max_body", "", "", "BYTES", "Largest request body (1 MiB)", SPOOL_FIELD(http_max_body)));
  file_only(row("http_max_connections", "", "", "N", "Open connections served (512)",
                SPOOL_FIELD(http_max_connections)));
  file_only(row("http_timeout_s", "", "", "SECONDS", "A request must arrive within this (10)",
                SPOOL_FIELD(http_timeout_s)));
  k.push_back(row("retention.completed_s", "SPOOL_RETENTION_COMPLETED_S", "--retention-completed",
                  "SECONDS", "Seconds completed jobs are kept before they are pruned, -1 forever (86400)",
                  SPOOL_FIELD(retention.completed_s)));
  k.push_back(row("retention.cancelled_s", "SPOOL_RETENTION_CANCELLED_S", "--retention-cancelled",
                  "SECONDS", "Seconds cancelled jobs are kept before they are pruned, -1 forever (86400)",
                  SPOOL_FIELD(retention.cancelled_s)));
  k.push_back(row("retention.dead_s", "SPOOL_RETENTION_DEAD_S", "--retention-dead", "SECONDS",
                  "Seconds dead-lettered jobs are kept before they are pruned, -1 forever (604800)",
                  SPOOL_FIELD(retention.dead_s)));
  k.push_back(row("retention.interval_s", "SPOOL_RETENTION_INTERVAL_S", "--prune-interval", "SECONDS",
                  "Seconds between pruning passes, run by the leader (60)",
                  SPOOL_FIELD(retention.interval_s)));
  k.push_back({"retention.queues", "", "", "Per-queue retention: NAME -> {completed_s, cancelled_s, dead_s}",
               "", retention_queues_from_json, nullptr});
  k.push_back({"kinds", "", "", "Per-kind retry policy, timeout and snooze ceiling", "", kinds_from_json, nullptr});
  k.push_back({"periodic", "", "", "Periodic jobs: [{name, cron, timezone, kind, queue, payload, ...}]", "",
               periodic_from_json, nullptr});
  k.push_back({"limits", "", "", "Concurrency limits across all nodes: [{kind, queue, concurrency, partition_by}]",
               "", limits_from_json, nullptr});
  k.push_back({"http_kinds", "", "", "Kinds run by an application over HTTP: [{kind, url, timeout_s, ...}]",
               "", http_kinds_from_json, nullptr});
  k.push_back(row("inference.backend", "SPOOL_INFERENCE_BACKEND", "", "local|openai",
                  "AI kinds' backend: local or openai (local)", SPOOL_FIELD(inference.backend)));
  k.push_back(row("inference.url", "SPOOL_INFERENCE_URL", "", "URL", "OpenAI-compatible server",
                  SPOOL_FIELD(inference.url)));
  k.push_back(row("inference.model", "SPOOL_INFERENCE_MODEL", "", "NAME", "Model name",
                  SPOOL_FIELD(inference.model)));
  k.push_back(row("inference.api_key", "SPOOL_INFERENCE_API_KEY", "", "KEY", "Sent as a Bearer token",
                  SPOOL_FIELD(inference.api_key)));
  k.push_back(row("inference.ca_file", "SPOOL_INFERENCE_CA_FILE", "", "FILE", "PEM bundle to trust",
                  SPOOL_FIELD(inference.ca_file)));
  k.push_back(row("inference.timeout_s", "SPOOL_INFERENCE_TIMEOUT_S", "", "SECONDS",
                  "One HTTP exchange (120)", SPOOL_FIELD(inference.timeout_s)));
  k.push_back(row("inference.max_concurrency", "SPOOL_INFERENCE_MAX_CONCURRENCY", "", "N",
                  "Model requests in flight (4)", SPOOL_FIELD(inference.max_concurrency)));
  k.push_back(row("profiles.debounce_s", "SPOOL_PROFILES_DEBOUNCE_S", "", "SECONDS",
                  "Profile job delay after an activity (10)", SPOOL_FIELD(profiles.debounce_s)));
  k.push_back(row("profiles.latest_n", "SPOOL_PROFILES_LATEST_N", "", "N",
                  "Activities a profile is built from (50)", SPOOL_FIELD(profiles.latest_n)));
  return k;
}

}  // namespace

const std::vector<key_spec>& keys() {
  static const std::vector<key_spec> all = make_keys();
  return all;
}

const key_spec* find_key(std::string_view json_key) {
  for (auto& k : keys())
    if (k.json == json_key) return &k;
  return nullptr;
}

const key_spec* find_flag(std::string_view flag) {
  for (auto& k : keys())
    if (!k.flag.empty() && k.flag == flag) return &k;
  return nullptr;
}

void apply_flag(settings& s, const key_spec& key, std::string_view value) {
  const origin o{origin::layer::flag, std::string(key.flag)};
  key.from_text(s, value, o);
  s.origins[std::string(key.json)] = o;
}

}  // namespace spool::config
