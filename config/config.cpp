#include "config/config.hpp"

#include "config/keys.hpp"
#include "jobs/limits.hpp"
#include "schedule/cron.hpp"

#include <boost/json/stream_parser.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <fstream>
#include <set>
#include <stdexcept>
#include <sstream>

namespace spool::config {
namespace json = boost::json;

namespace {

[[noreturn]] void fail(std::string_view where, std::string_view why) {
  throw config_error(std::string(where) + ": " + std::string(why));
}

std::string known_keys(std::string_view section) {
  std::string out;
  for (auto& k : keys()) {
    auto name = k.json;
    if (!section.empty()) {
      if (!name.starts_with(std::string(section) + ".")) continue;
      name.remove_prefix(section.size() + 1);
    } else if (auto dot = name.find('.'); dot != std::string_view::npos) {
      name = name.substr(0, dot);
      if (out.ends_with(std::string(name))) continue;  // a section, listed once
    }
    out += (out.empty() ? "" : ", ") + std::string(name);
  }
  return out;
}

// "line 3, column 7" of offset `at` in `text`.
std::string position(std::string_view text, std::size_t at) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < at && i < text.size(); ++i) {
    if (text[i] == '\n') ++line, column = 1;
    else ++column;
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

}  // namespace

std::string origin::describe(std::string_view key) const {
  switch (from) {
    case layer::file: return "config file " + source + ", key " + std::string(key);
    case layer::env: return "environment variable " + source + " (" + std::string(key) + ")";
    case layer::flag: return "flag " + source;
  }
  return std::string(key);
}

std::string settings::where(std::string_view key) const {
  // The longest recorded prefix: "queues.default" was set with "queues", "inference.url" as itself.
  for (std::string_view k = key;;) {
    if (auto it = origins.find(k); it != origins.end()) return it->second.describe(key);
    const auto dot = k.find_last_of(".[");  // "periodic[0].cron" was set with "periodic"
    if (dot == std::string_view::npos) break;
    k = k.substr(0, dot);
  }
  return "setting " + std::string(key);
}

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
  settings s;
  find_key("queues")->from_text(s, spec, origin{origin::layer::flag, "--queue"});
  if (s.queues.size() != 1) throw config_error("flag --queue: expected NAME=CONCURRENCY");
  return *s.queues.begin();
}

void apply_json(settings& s, std::string_view text, std::string_view source) {
  const std::string file(source);
  boost::system::error_code ec;
  json::stream_parser p;
  const std::size_t used = p.write_some(text.data(), text.size(), ec);
  if (!ec) p.finish(ec);
  if (ec)
    throw config_error("config file " + file + ": invalid JSON at " + position(text, used) + ": " +
                       ec.message());
  json::value doc = p.release();
  if (!doc.is_object()) throw config_error("config file " + file + ": must be a JSON object");
  const origin o{origin::layer::file, file};
  auto apply = [&](const key_spec* k, std::string_view name, const json::value& v,
                   std::string_view section) {
    if (!k)
      throw config_error(o.describe(name) + ": unknown key (known: " + known_keys(section) + ")");
    k->from_json(s, v, o);
    s.origins[std::string(k->json)] = o;
  };
  for (auto& [name, v] : doc.get_object()) {
    const std::string key(name);
    if (key == "inference" || key == "profiles" || key == "retention") {
      if (!v.is_object()) fail(o.describe(key), "must be an object");
      for (auto& [sub, sv] : v.get_object()) {
        const std::string full = key + "." + std::string(sub);
        apply(find_key(full), full, sv, key);
      }
    } else {
      apply(find_key(key), key, v, "");
    }
  }
}

void apply_file(settings& s, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw config_error("config file " + path + " cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  apply_json(s, text.str(), path);
}

void apply_env(settings& s, const std::function<const char*(const char*)>& getenv) {
  for (auto& k : keys()) {
    if (k.env.empty() || !k.from_text) continue;
    const std::string name(k.env);
    const char* v = getenv(name.c_str());
    if (!v) continue;
    const origin o{origin::layer::env, name};
    k.from_text(s, v, o);
    s.origins[std::string(k.json)] = o;
  }
}

void validate(const settings& s) {
  // Durations become microseconds, some of them steady_clock's nanoseconds (292 years): a value
  // past those (1e300, or "inf" from the environment) was undefined behaviour there. Ten years is
  // far beyond any sensible setting. Written so that NaN fails too.
  constexpr double max_seconds = 10 * 365 * 86400.0;
  auto at_most_ten_years = [&](std::string_view key, double v) {
    if (!(v <= max_seconds)) fail(s.where(key), "must be at most ten years (315360000 s)");
  };
  if (s.db.empty()) fail(s.where("db"), "must not be empty");
  if (s.workers < 0 || s.workers > 1024) fail(s.where("workers"), "must be between 0 and 1024");
  if (s.queues.empty()) fail(s.where("queues"), "at least one queue is needed");
  for (auto& [name, conc] : s.queues) {
    if (!valid_name(name))
      fail(s.where("queues." + name), "queue names are 1-64 characters of A-Z a-z 0-9 _ - . :");
    if (conc < 1 || conc > 100000) fail(s.where("queues." + name), "concurrency must be 1..100000");
  }
  if (!(s.grace_s >= 0)) fail(s.where("grace_s"), "must be >= 0");
  if (!(s.poll_interval_s > 0)) fail(s.where("poll_interval_s"), "must be > 0");
  if (!(s.lease_s >= 0.1)) fail(s.where("lease_s"), "must be >= 0.1");
  if (!(s.rescue_interval_s > 0)) fail(s.where("rescue_interval_s"), "must be > 0");
  at_most_ten_years("grace_s", s.grace_s);
  at_most_ten_years("poll_interval_s", s.poll_interval_s);
  at_most_ten_years("lease_s", s.lease_s);
  at_most_ten_years("rescue_interval_s", s.rescue_interval_s);
  if (s.db_pool < 0 || s.db_pool > 64) fail(s.where("db_pool"), "must be between 0 and 64");
  if (s.enqueue_durability != "full" && s.enqueue_durability != "relaxed")
    fail(s.where("enqueue_durability"), "must be full or relaxed");
  if (!(s.leader_ttl_s >= 0.5 && s.leader_ttl_s <= 3600))
    fail(s.where("leader_ttl_s"), "must be between 0.5 and 3600");
  if (s.log_format != "text" && s.log_format != "json")
    fail(s.where("log_format"), "must be text or json");
  if (s.log_level != "debug" && s.log_level != "info" && s.log_level != "warn" &&
      s.log_level != "error")
    fail(s.where("log_level"), "must be debug, info, warn or error");
  if (s.http != "off") {
    const auto colon = s.http.rfind(':');
    unsigned port = 0;
    const char* p = s.http.data() + (colon == std::string::npos ? 0 : colon + 1);
    const char* end = s.http.data() + s.http.size();
    auto [stop, ec] = std::from_chars(p, end, port);
    if (colon == std::string::npos || colon == 0 || ec != std::errc{} || stop != end || p == end ||
        port > 65535)
      fail(s.where("http"), "'" + s.http + "' is not HOST:PORT (such as 127.0.0.1:8080) or off");
  }
  if (s.admin_token && s.admin_token->empty()) fail(s.where("admin_token"), "must not be empty");
  if (s.http_max_body < 1024 || s.http_max_body > (64u << 20))
    fail(s.where("http_max_body"), "must be between 1 KiB and 64 MiB");
  if (s.result_max_bytes < 2 || s.result_max_bytes > (16u << 20))
    fail(s.where("result_max_bytes"), "must be between 2 bytes and 16 MiB");
  if (s.http_max_connections < 1) fail(s.where("http_max_connections"), "must be >= 1");
  if (!(s.http_timeout_s > 0)) fail(s.where("http_timeout_s"), "must be > 0");
  at_most_ten_years("http_timeout_s", s.http_timeout_s);
  if (!(s.http_session_ttl_s >= 1)) fail(s.where("http_session_ttl_s"), "must be >= 1");
  at_most_ten_years("http_session_ttl_s", s.http_session_ttl_s);
  const auto& inf = s.inference;
  if (inf.backend != "local" && inf.backend != "openai")
    fail(s.where("inference.backend"), "must be local or openai");
  if (inf.backend == "openai") {
    if (inf.url.empty()) fail(s.where("inference.url"), "is required by the openai backend");
    if (!inf.url.starts_with("http://") && !inf.url.starts_with("https://"))
      fail(s.where("inference.url"), "must start with http:// or https://");
    if (inf.model.empty()) fail(s.where("inference.model"), "is required by the openai backend");
  }
  if (inf.api_key && inf.api_key->empty()) fail(s.where("inference.api_key"), "must not be empty");
  if (!(inf.timeout_s > 0)) fail(s.where("inference.timeout_s"), "must be > 0");
  at_most_ten_years("inference.timeout_s", inf.timeout_s);
  if (inf.max_concurrency < 1 || inf.max_concurrency > 1024)
    fail(s.where("inference.max_concurrency"), "must be between 1 and 1024");
  auto retention = [&](const std::string& key, double v) {
    if (v != -1 && !(v >= 0 && v <= max_seconds))
      fail(s.where(key), "must be -1 (keep forever) or between 0 and ten years (315360000 s)");
  };
  retention("retention.completed_s", s.retention.completed_s);
  retention("retention.cancelled_s", s.retention.cancelled_s);
  retention("retention.dead_s", s.retention.dead_s);
  if (!(s.retention.interval_s > 0)) fail(s.where("retention.interval_s"), "must be > 0");
  at_most_ten_years("retention.interval_s", s.retention.interval_s);
  for (auto& [q, o] : s.retention.queues) {
    const std::string p = "retention.queues." + q;
    if (!valid_name(q)) fail(s.where(p), "queue names are 1-64 characters of A-Z a-z 0-9 _ - . :");
    if (o.completed_s) retention(p + ".completed_s", *o.completed_s);
    if (o.cancelled_s) retention(p + ".cancelled_s", *o.cancelled_s);
    if (o.dead_s) retention(p + ".dead_s", *o.dead_s);
  }
  if (!(s.profiles.debounce_s >= 0)) fail(s.where("profiles.debounce_s"), "must be >= 0");
  at_most_ten_years("profiles.debounce_s", s.profiles.debounce_s);
  if (s.profiles.latest_n < 1 || s.profiles.latest_n > 1000)
    fail(s.where("profiles.latest_n"), "must be between 1 and 1000");
  for (auto& [name, k] : s.kinds) {
    const std::string p = "kinds." + name;
    if (k.retry_base_s && !(*k.retry_base_s >= 0)) fail(s.where(p + ".retry_base_s"), "must be >= 0");
    if (k.retry_cap_s && !(*k.retry_cap_s >= 0)) fail(s.where(p + ".retry_cap_s"), "must be >= 0");
    if (k.retry_jitter && !(*k.retry_jitter >= 0 && *k.retry_jitter < 1))
      fail(s.where(p + ".retry_jitter"), "must be in [0, 1)");
    if (k.max_attempts && *k.max_attempts < 1) fail(s.where(p + ".max_attempts"), "must be >= 1");
    if (k.timeout_s && !(*k.timeout_s > 0)) fail(s.where(p + ".timeout_s"), "must be > 0");
    if (k.max_snoozes && *k.max_snoozes < 0) fail(s.where(p + ".max_snoozes"), "must be >= 0");
    if (k.max_snooze_total_s && !(*k.max_snooze_total_s >= 0))
      fail(s.where(p + ".max_snooze_total_s"), "must be >= 0");
    for (auto [key, v] : {std::pair{".retry_base_s", k.retry_base_s}, std::pair{".retry_cap_s", k.retry_cap_s},
                          std::pair{".timeout_s", k.timeout_s},
                          std::pair{".max_snooze_total_s", k.max_snooze_total_s}})
      if (v) at_most_ten_years(p + key, *v);
  }
  std::set<std::string, std::less<>> schedules;
  for (std::size_t i = 0; i < s.periodic.size(); ++i) {
    const auto& p = s.periodic[i];
    const std::string at = "periodic[" + std::to_string(i) + "]";
    // The error names the entry; where() finds the layer that set "periodic".
    auto where = [&](std::string_view field) { return s.where(at + "." + std::string(field)); };
    if (!valid_name(p.name)) fail(where("name"), "schedule names are 1-64 characters of A-Z a-z 0-9 _ - . :");
    if (!schedules.insert(p.name).second) fail(where("name"), "'" + p.name + "' names two schedules");
    try {
      (void)schedule::cron::parse(p.cron, p.timezone);
    } catch (const std::invalid_argument& e) {
      const std::string why = e.what();
      fail(where(why.starts_with("unknown time zone") ? "timezone" : "cron"), why);
    }
    if (!valid_name(p.kind)) fail(where("kind"), "kind names are 1-64 characters of A-Z a-z 0-9 _ - . :");
    if (!valid_name(p.queue))
      fail(where("queue"), "queue names are 1-64 characters of A-Z a-z 0-9 _ - . :");
    if (p.max_attempts < 0) fail(where("max_attempts"), "must be >= 0 (0: the kind's policy)");
    if (p.catch_up != "one" && p.catch_up != "none") fail(where("catch_up"), "must be one or none");
  }
  std::set<std::string, std::less<>> limits;
  for (std::size_t i = 0; i < s.limits.size(); ++i) {
    const auto& l = s.limits[i];
    const std::string at = "limits[" + std::to_string(i) + "]";
    auto where = [&](std::string_view field) { return s.where(at + "." + std::string(field)); };
    if (!l.kind.empty() && !valid_name(l.kind))
      fail(where("kind"), "kind names are 1-64 characters of A-Z a-z 0-9 _ - . :");
    if (!l.queue.empty() && !valid_name(l.queue))
      fail(where("queue"), "queue names are 1-64 characters of A-Z a-z 0-9 _ - . :");
    if (l.kind.empty() && l.queue.empty()) fail(where("kind"), "a limit needs a kind, a queue or both");
    if (l.concurrency < 1) fail(where("concurrency"), "must be >= 1");
    if (!l.partition_by.empty())
      if (auto why = jobs::partition_by_error(l.partition_by); !why.empty()) fail(where("partition_by"), why);
    const auto name = jobs::concurrency_limit{l.kind, l.queue, l.concurrency, l.partition_by}.name();
    if (!limits.insert(name).second) fail(where("kind"), "'" + name + "' is limited twice");
  }
  std::set<std::string, std::less<>> http_kinds;
  for (std::size_t i = 0; i < s.http_kinds.size(); ++i) {
    const auto& h = s.http_kinds[i];
    const std::string at = "http_kinds[" + std::to_string(i) + "]";
    auto where = [&](std::string_view field) { return s.where(at + "." + std::string(field)); };
    if (!valid_name(h.kind)) fail(where("kind"), "kind names are 1-64 characters of A-Z a-z 0-9 _ - . :");
    if (!http_kinds.insert(h.kind).second) fail(where("kind"), "'" + h.kind + "' names two HTTP kinds");
    if (!h.url.starts_with("http://") && !h.url.starts_with("https://"))
      fail(where("url"), "'" + h.url + "' must start with http:// or https://");
    if (!(h.timeout_s > 0)) fail(where("timeout_s"), "must be > 0");
    at_most_ten_years(at + ".timeout_s", h.timeout_s);
    if (!(h.max_snooze_s >= 0)) fail(where("max_snooze_s"), "must be >= 0");
    at_most_ten_years(at + ".max_snooze_s", h.max_snooze_s);
    if (h.secret_env && h.secret_env->empty()) fail(where("secret_env"), "must name an environment variable");
    if (h.callback_url && !h.callback_url->starts_with("http://") && !h.callback_url->starts_with("https://"))
      fail(where("callback_url"), "'" + *h.callback_url + "' must start with http:// or https://");
    for (auto& [name, value] : h.headers) {
      const bool token = !name.empty() && name.find_first_of(" \t\r\n:()<>@,;\\\"/[]?={}") == std::string::npos;
      if (!token) fail(where("headers"), "'" + name + "' is not a header name");
      if (value.find_first_of("\r\n") != std::string::npos)
        fail(where("headers." + name), "must not contain a line break");
    }
  }
}

}  // namespace spool::config
