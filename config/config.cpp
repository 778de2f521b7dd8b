#include "config/config.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <fstream>
#include <sstream>

namespace spool::config {
namespace json = boost::json;

namespace {

[[noreturn]] void fail(std::string_view source, std::string_view key, std::string_view why) {
  throw config_error(std::string(source) + ": " + std::string(key) + ": " + std::string(why));
}

double number(const json::value& v, std::string_view source, std::string_view key) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  fail(source, key, "must be a number");
}

int integer(const json::value& v, std::string_view source, std::string_view key) {
  if (v.is_int64() && v.get_int64() >= INT32_MIN && v.get_int64() <= INT32_MAX)
    return static_cast<int>(v.get_int64());
  if (v.is_uint64() && v.get_uint64() <= INT32_MAX) return static_cast<int>(v.get_uint64());
  fail(source, key, "must be an integer");
}

std::string string(const json::value& v, std::string_view source, std::string_view key) {
  if (!v.is_string()) fail(source, key, "must be a string");
  return std::string(v.get_string());
}

bool boolean(const json::value& v, std::string_view source, std::string_view key) {
  if (!v.is_bool()) fail(source, key, "must be true or false");
  return v.get_bool();
}

void apply_kind(kind_settings& k, const json::object& o, std::string_view source,
                const std::string& prefix) {
  for (auto& [name, v] : o) {
    const std::string key = prefix + "." + std::string(name);
    if (name == "retry_base_s") k.retry_base_s = number(v, source, key);
    else if (name == "retry_cap_s") k.retry_cap_s = number(v, source, key);
    else if (name == "retry_jitter") k.retry_jitter = number(v, source, key);
    else if (name == "max_attempts") k.max_attempts = integer(v, source, key);
    else if (name == "timeout_s") k.timeout_s = number(v, source, key);
    else fail(source, key, "unknown key");
  }
}

void apply_inference(inference_settings& i, const json::value& v, std::string_view source) {
  if (!v.is_object()) fail(source, "inference", "must be an object");
  for (auto& [name, val] : v.get_object()) {
    const std::string key = "inference." + std::string(name);
    if (name == "backend") i.backend = string(val, source, key);
    else if (name == "url") i.url = string(val, source, key);
    else if (name == "model") i.model = string(val, source, key);
    else if (name == "api_key") i.api_key = string(val, source, key);
    else if (name == "ca_file") i.ca_file = string(val, source, key);
    else if (name == "timeout_s") i.timeout_s = number(val, source, key);
    else if (name == "max_concurrency") i.max_concurrency = integer(val, source, key);
    else fail(source, key, "unknown key");
  }
}

void apply_profiles(profile_settings& p, const json::value& v, std::string_view source) {
  if (!v.is_object()) fail(source, "profiles", "must be an object");
  for (auto& [name, val] : v.get_object()) {
    const std::string key = "profiles." + std::string(name);
    if (name == "debounce_s") p.debounce_s = number(val, source, key);
    else if (name == "latest_n") p.latest_n = integer(val, source, key);
    else fail(source, key, "unknown key");
  }
}

void apply_retention(retention_settings& r, const json::value& v, std::string_view source) {
  if (!v.is_object()) fail(source, "retention", "must be an object");
  for (auto& [name, val] : v.get_object()) {
    const std::string key = "retention." + std::string(name);
    if (name == "completed_s") r.completed_s = number(val, source, key);
    else if (name == "cancelled_s") r.cancelled_s = number(val, source, key);
    else if (name == "dead_s") r.dead_s = number(val, source, key);
    else if (name == "interval_s") r.interval_s = number(val, source, key);
    else if (name == "queues") {
      if (!val.is_object()) fail(source, key, "must be an object of queue name -> retention");
      for (auto& [q, qv] : val.get_object()) {
        const std::string prefix = key + "." + std::string(q);
        if (!qv.is_object()) fail(source, prefix, "must be an object");
        auto& o = r.queues[std::string(q)];
        for (auto& [field, fv] : qv.get_object()) {
          const std::string k = prefix + "." + std::string(field);
          if (field == "completed_s") o.completed_s = number(fv, source, k);
          else if (field == "cancelled_s") o.cancelled_s = number(fv, source, k);
          else if (field == "dead_s") o.dead_s = number(fv, source, k);
          else fail(source, k, "unknown key");
        }
      }
    } else fail(source, key, "unknown key");
  }
}

double parse_double(std::string_view text, std::string_view source, std::string_view key) {
  double d = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (ec != std::errc{} || end != text.data() + text.size())
    fail(source, key, "'" + std::string(text) + "' is not a number");
  return d;
}

int parse_int(std::string_view text, std::string_view source, std::string_view key) {
  int i = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
  if (ec != std::errc{} || end != text.data() + text.size())
    fail(source, key, "'" + std::string(text) + "' is not an integer");
  return i;
}

}  // namespace

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

std::pair<std::string, int> parse_queue(std::string_view spec) {
  auto eq = spec.find('=');
  if (eq == std::string_view::npos)
    throw config_error("queue '" + std::string(spec) + "': expected NAME=CONCURRENCY");
  std::string name(spec.substr(0, eq));
  int conc = parse_int(spec.substr(eq + 1), "queue", name);
  return {name, conc};
}

void apply_json(settings& s, std::string_view text, std::string_view source) {
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec) throw config_error(std::string(source) + ": invalid JSON: " + ec.message());
  if (!doc.is_object()) throw config_error(std::string(source) + ": must be a JSON object");
  for (auto& [name, v] : doc.get_object()) {
    const std::string key(name);
    if (key == "db") s.db = string(v, source, key);
    else if (key == "workers") s.workers = integer(v, source, key);
    else if (key == "grace_s") s.grace_s = number(v, source, key);
    else if (key == "poll_interval_s") s.poll_interval_s = number(v, source, key);
    else if (key == "lease_s") s.lease_s = number(v, source, key);
    else if (key == "rescue_interval_s") s.rescue_interval_s = number(v, source, key);
    else if (key == "db_pool") s.db_pool = integer(v, source, key);
    else if (key == "enqueue_durability") s.enqueue_durability = string(v, source, key);
    else if (key == "leader_ttl_s") s.leader_ttl_s = number(v, source, key);
    else if (key == "log_format") s.log_format = string(v, source, key);
    else if (key == "log_level") s.log_level = string(v, source, key);
    else if (key == "diagnostic_kinds") s.diagnostic_kinds = boolean(v, source, key);
    else if (key == "http") s.http = string(v, source, key);
    else if (key == "admin_token") s.admin_token = string(v, source, key);
    else if (key == "metrics_require_token") s.metrics_require_token = boolean(v, source, key);
    else if (key == "http_max_body") s.http_max_body = static_cast<std::size_t>(integer(v, source, key));
    else if (key == "http_max_connections") s.http_max_connections = integer(v, source, key);
    else if (key == "http_timeout_s") s.http_timeout_s = number(v, source, key);
    else if (key == "inference") apply_inference(s.inference, v, source);
    else if (key == "profiles") apply_profiles(s.profiles, v, source);
    else if (key == "retention") apply_retention(s.retention, v, source);
    else if (key == "queues") {
      if (!v.is_object()) fail(source, key, "must be an object of queue name -> concurrency");
      s.queues.clear();
      for (auto& [q, c] : v.get_object())
        s.queues[std::string(q)] = integer(c, source, key + "." + std::string(q));
    } else if (key == "kinds") {
      if (!v.is_object()) fail(source, key, "must be an object of kind name -> settings");
      for (auto& [k, ks] : v.get_object()) {
        const std::string prefix = key + "." + std::string(k);
        if (!ks.is_object()) fail(source, prefix, "must be an object");
        apply_kind(s.kinds[std::string(k)], ks.get_object(), source, prefix);
      }
    } else {
      fail(source, key, "unknown key");
    }
  }
}

void apply_file(settings& s, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw config_error("config file '" + path + "' cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  apply_json(s, text.str(), path);
}

void apply_env(settings& s, const std::function<const char*(const char*)>& getenv) {
  constexpr std::string_view src = "environment";
  auto get = [&](const char* name) -> std::optional<std::string_view> {
    const char* v = getenv(name);
    if (!v) return std::nullopt;
    return std::string_view(v);
  };
  if (auto v = get("SPOOL_DB")) s.db = *v;
  if (auto v = get("SPOOL_WORKERS")) s.workers = parse_int(*v, src, "SPOOL_WORKERS");
  if (auto v = get("SPOOL_GRACE_S")) s.grace_s = parse_double(*v, src, "SPOOL_GRACE_S");
  if (auto v = get("SPOOL_POLL_INTERVAL_S"))
    s.poll_interval_s = parse_double(*v, src, "SPOOL_POLL_INTERVAL_S");
  if (auto v = get("SPOOL_LEASE_S")) s.lease_s = parse_double(*v, src, "SPOOL_LEASE_S");
  if (auto v = get("SPOOL_DB_POOL")) s.db_pool = parse_int(*v, src, "SPOOL_DB_POOL");
  if (auto v = get("SPOOL_ENQUEUE_DURABILITY")) s.enqueue_durability = *v;
  if (auto v = get("SPOOL_LEADER_TTL_S")) s.leader_ttl_s = parse_double(*v, src, "SPOOL_LEADER_TTL_S");
  if (auto v = get("SPOOL_LOG_FORMAT")) s.log_format = *v;
  if (auto v = get("SPOOL_HTTP")) s.http = *v;
  if (auto v = get("SPOOL_ADMIN_TOKEN")) s.admin_token = std::string(*v);
  if (auto v = get("SPOOL_LOG_LEVEL")) s.log_level = *v;
  if (auto v = get("SPOOL_DIAGNOSTIC_KINDS")) {
    if (*v == "1" || *v == "true") s.diagnostic_kinds = true;
    else if (*v == "0" || *v == "false") s.diagnostic_kinds = false;
    else fail(src, "SPOOL_DIAGNOSTIC_KINDS", "must be 1, 0, true or false");
  }
  if (auto v = get("SPOOL_INFERENCE_BACKEND")) s.inference.backend = *v;
  if (auto v = get("SPOOL_INFERENCE_URL")) s.inference.url = *v;
  if (auto v = get("SPOOL_INFERENCE_MODEL")) s.inference.model = *v;
  if (auto v = get("SPOOL_INFERENCE_API_KEY")) s.inference.api_key = std::string(*v);
  if (auto v = get("SPOOL_INFERENCE_CA_FILE")) s.inference.ca_file = std::string(*v);
  if (auto v = get("SPOOL_INFERENCE_TIMEOUT_S"))
    s.inference.timeout_s = parse_double(*v, src, "SPOOL_INFERENCE_TIMEOUT_S");
  if (auto v = get("SPOOL_INFERENCE_MAX_CONCURRENCY"))
    s.inference.max_concurrency = parse_int(*v, src, "SPOOL_INFERENCE_MAX_CONCURRENCY");
  if (auto v = get("SPOOL_RETENTION_COMPLETED_S"))
    s.retention.completed_s = parse_double(*v, src, "SPOOL_RETENTION_COMPLETED_S");
  if (auto v = get("SPOOL_RETENTION_CANCELLED_S"))
    s.retention.cancelled_s = parse_double(*v, src, "SPOOL_RETENTION_CANCELLED_S");
  if (auto v = get("SPOOL_RETENTION_DEAD_S"))
    s.retention.dead_s = parse_double(*v, src, "SPOOL_RETENTION_DEAD_S");
  if (auto v = get("SPOOL_RETENTION_INTERVAL_S"))
    s.retention.interval_s = parse_double(*v, src, "SPOOL_RETENTION_INTERVAL_S");
  if (auto v = get("SPOOL_PROFILES_DEBOUNCE_S"))
    s.profiles.debounce_s = parse_double(*v, src, "SPOOL_PROFILES_DEBOUNCE_S");
  if (auto v = get("SPOOL_PROFILES_LATEST_N"))
    s.profiles.latest_n = parse_int(*v, src, "SPOOL_PROFILES_LATEST_N");
  if (auto v = get("SPOOL_QUEUES")) {  // "default=20,ai=4"
    s.queues.clear();
    std::string_view rest = *v;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      auto [name, conc] = parse_queue(rest.substr(0, comma));
      s.queues[name] = conc;
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
}

void validate(const settings& s) {
  constexpr std::string_view src = "config";
  // Durations become microseconds, some of them steady_clock's nanoseconds (292 years): a value
  // past those (1e300, or "inf" from the environment) was undefined behaviour there. Ten years is
  // far beyond any sensible setting. Written so that NaN fails too.
  constexpr double max_seconds = 10 * 365 * 86400.0;
  auto at_most_ten_years = [&](std::string_view key, double v) {
    if (!(v <= max_seconds)) fail(src, key, "must be at most ten years (315360000 s)");
  };
  if (s.db.empty()) fail(src, "db", "must not be empty");
  if (s.workers < 0 || s.workers > 1024) fail(src, "workers", "must be between 0 and 1024");
  if (s.queues.empty()) fail(src, "queues", "at least one queue is needed");
  for (auto& [name, conc] : s.queues) {
    if (!valid_name(name))
      fail(src, "queues." + name, "queue names are 1-64 characters of A-Z a-z 0-9 _ - . :");
    if (conc < 1 || conc > 100000) fail(src, "queues." + name, "concurrency must be 1..100000");
  }
  if (!(s.grace_s >= 0)) fail(src, "grace_s", "must be >= 0");
  if (!(s.poll_interval_s > 0)) fail(src, "poll_interval_s", "must be > 0");
  if (!(s.lease_s >= 0.1)) fail(src, "lease_s", "must be >= 0.1");
  if (!(s.rescue_interval_s > 0)) fail(src, "rescue_interval_s", "must be > 0");
  at_most_ten_years("grace_s", s.grace_s);
  at_most_ten_years("poll_interval_s", s.poll_interval_s);
  at_most_ten_years("lease_s", s.lease_s);
  at_most_ten_years("rescue_interval_s", s.rescue_interval_s);
  if (s.db_pool < 0 || s.db_pool > 64) fail(src, "db_pool", "must be between 0 and 64");
  if (s.enqueue_durability != "full" && s.enqueue_durability != "relaxed")
    fail(src, "enqueue_durability", "must be full or relaxed");
  if (!(s.leader_ttl_s >= 0.5 && s.leader_ttl_s <= 3600))
    fail(src, "leader_ttl_s", "must be between 0.5 and 3600");
  if (s.log_format != "text" && s.log_format != "json")
    fail(src, "log_format", "must be text or json");
  if (s.log_level != "debug" && s.log_level != "info" && s.log_level != "warn" &&
      s.log_level != "error")
    fail(src, "log_level", "must be debug, info, warn or error");
  if (s.http.empty()) fail(src, "http", "must be HOST:PORT or off");
  if (s.admin_token && s.admin_token->empty()) fail(src, "admin_token", "must not be empty");
  if (s.http_max_body < 1024 || s.http_max_body > (64u << 20))
    fail(src, "http_max_body", "must be between 1 KiB and 64 MiB");
  if (s.http_max_connections < 1) fail(src, "http_max_connections", "must be >= 1");
  if (!(s.http_timeout_s > 0)) fail(src, "http_timeout_s", "must be > 0");
  at_most_ten_years("http_timeout_s", s.http_timeout_s);
  const auto& inf = s.inference;
  if (inf.backend != "local" && inf.backend != "openai")
    fail(src, "inference.backend", "must be local or openai");
  if (inf.backend == "openai") {
    if (inf.url.empty()) fail(src, "inference.url", "is required by the openai backend");
    if (!inf.url.starts_with("http://") && !inf.url.starts_with("https://"))
      fail(src, "inference.url", "must start with http:// or https://");
    if (inf.model.empty()) fail(src, "inference.model", "is required by the openai backend");
  }
  if (inf.api_key && inf.api_key->empty()) fail(src, "inference.api_key", "must not be empty");
  if (!(inf.timeout_s > 0)) fail(src, "inference.timeout_s", "must be > 0");
  at_most_ten_years("inference.timeout_s", inf.timeout_s);
  if (inf.max_concurrency < 1 || inf.max_concurrency > 1024)
    fail(src, "inference.max_concurrency", "must be between 1 and 1024");
  auto retention = [&](const std::string& key, double v) {
    if (v != -1 && !(v >= 0 && v <= max_seconds))
      fail(src, key, "must be -1 (keep forever) or between 0 and ten years (315360000 s)");
  };
  retention("retention.completed_s", s.retention.completed_s);
  retention("retention.cancelled_s", s.retention.cancelled_s);
  retention("retention.dead_s", s.retention.dead_s);
  if (!(s.retention.interval_s > 0)) fail(src, "retention.interval_s", "must be > 0");
  at_most_ten_years("retention.interval_s", s.retention.interval_s);
  for (auto& [q, o] : s.retention.queues) {
    const std::string p = "retention.queues." + q;
    if (!valid_name(q)) fail(src, p, "queue names are 1-64 characters of A-Z a-z 0-9 _ - . :");
    if (o.completed_s) retention(p + ".completed_s", *o.completed_s);
    if (o.cancelled_s) retention(p + ".cancelled_s", *o.cancelled_s);
    if (o.dead_s) retention(p + ".dead_s", *o.dead_s);
  }
  if (!(s.profiles.debounce_s >= 0)) fail(src, "profiles.debounce_s", "must be >= 0");
  at_most_ten_years("profiles.debounce_s", s.profiles.debounce_s);
  if (s.profiles.latest_n < 1 || s.profiles.latest_n > 1000)
    fail(src, "profiles.latest_n", "must be between 1 and 1000");
  for (auto& [name, k] : s.kinds) {
    const std::string p = "kinds." + name;
    if (k.retry_base_s && !(*k.retry_base_s >= 0)) fail(src, p + ".retry_base_s", "must be >= 0");
    if (k.retry_cap_s && !(*k.retry_cap_s >= 0)) fail(src, p + ".retry_cap_s", "must be >= 0");
    if (k.retry_jitter && !(*k.retry_jitter >= 0 && *k.retry_jitter < 1))
      fail(src, p + ".retry_jitter", "must be in [0, 1)");
    if (k.max_attempts && *k.max_attempts < 1) fail(src, p + ".max_attempts", "must be >= 1");
    if (k.timeout_s && !(*k.timeout_s > 0)) fail(src, p + ".timeout_s", "must be > 0");
    for (auto [key, v] : {std::pair{".retry_base_s", k.retry_base_s}, std::pair{".retry_cap_s", k.retry_cap_s},
                          std::pair{".timeout_s", k.timeout_s}})
      if (v) at_most_ten_years(p + key, *v);
  }
}

}  // namespace spool::config
