#include "jobs/json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fmt/format.h>

namespace spool::jobs {
namespace json = boost::json;

std::string to_rfc3339(time_point t) {
  // Seconds and microseconds from the count itself: no chrono conversion, which could overflow
  // at the ends of the range (system_clock::to_time_t takes nanoseconds, good until 2262 only;
  // a damaged row may hold anything down to INT64_MIN: found by fuzz/stored_rows).
  const std::int64_t us = t.time_since_epoch().count();
  std::time_t tt = us / 1000000;
  std::int64_t frac = us % 1000000;
  if (frac < 0) frac += 1000000, --tt;
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:06}Z", buf, frac);
}

std::optional<time_point> parse_rfc3339(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  std::string s(text);
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 || consumed != 19)
    return std::nullopt;
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60)
    return std::nullopt;
  const int year = tm.tm_year, month = tm.tm_mon;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (tm.tm_mday > days[month - 1] + (month == 2 && leap ? 1 : 0)) return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::size_t i = 19;
  std::int64_t micros = 0;
  if (i < s.size() && s[i] == '.') {
    int digits = 0;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++digits)
      if (digits < 6) micros = micros * 10 + (s[i] - '0');
    if (digits == 0) return std::nullopt;
    for (; digits < 6; ++digits) micros *= 10;
  }
  int offset_min = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int h = 0, m = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &h, &m) != 2 || h > 23 || m > 59)
      return std::nullopt;
    offset_min = (s[i] == '+' ? 1 : -1) * (h * 60 + m);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  const std::time_t secs = timegm(&tm);
  return time_point(std::chrono::seconds(secs) - std::chrono::minutes(offset_min) +
                    std::chrono::microseconds(micros));
}

namespace {
json::value opt_time(const std::optional<time_point>& t) {
  return t ? json::value(to_rfc3339(*t)) : json::value(nullptr);
}
}  // namespace

json::object to_json(const job& j) {
  json::object o;
  o["id"] = j.id;
  o["kind"] = j.kind;
  o["queue"] = j.queue;
  o["state"] = to_string(j.st);
  boost::system::error_code ec;
  auto payload = json::parse(j.payload, ec);
  o["payload"] = ec ? json::value(j.payload) : std::move(payload);
  o["priority"] = j.priority;
  o["attempt"] = j.attempt;
  o["max_attempts"] = j.max_attempts > 0 ? json::value(j.max_attempts) : json::value(nullptr);
  o["unique_key"] = j.unique_key ? json::value(*j.unique_key) : json::value(nullptr);
  o["created_at"] = to_rfc3339(j.created_at);
  o["run_at"] = opt_time(j.run_at);
  o["attempted_at"] = opt_time(j.attempted_at);
  o["finalized_at"] = opt_time(j.finalized_at);
  o["lease_until"] = opt_time(j.lease_until);
  o["worker"] = j.worker.empty() ? json::value(nullptr) : json::value(j.worker);
  o["note"] = j.note.empty() ? json::value(nullptr) : json::value(j.note);
  json::array errors;
  for (auto& e : j.errors)
    errors.push_back(json::object{{"attempt", e.attempt},
                                  {"at", to_rfc3339(e.at)},
                                  {"message", e.message},
                                  {"started_at", opt_time(e.started_at)},
                                  {"node", e.node.empty() ? json::value(nullptr) : json::value(e.node)}});
  o["errors"] = std::move(errors);
  json::array parents;
  for (auto p : j.depends_on) parents.push_back(p);
  o["depends_on"] = std::move(parents);
  o["progress"] = nullptr;
  if (j.progress)
    o["progress"] = json::object{{"fraction", j.progress->fraction},
                                 {"note", j.progress->note},
                                 {"at", to_rfc3339(j.progress->at)}};
  o["result"] = nullptr;
  if (j.result) {
    boost::system::error_code ec;
    auto result = json::parse(*j.result, ec);
    o["result"] = ec ? json::value(*j.result) : std::move(result);
  }
  return o;
}

namespace {
void write(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_: {
      const double d = v.get_double();
      if (!std::isfinite(d)) {
        out += "null";
        return;
      }
      std::string text = fmt::format("{}", d);  // shortest form that reads back the same
      if (text.find_first_of("eE") != std::string::npos) {
        text = fmt::format("{:.6f}", d);  // very large or very small: fixed, trimmed
        while (text.back() == '0') text.pop_back();
        if (text.back() == '.') text.pop_back();
      }
      out += text;
      return;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (auto& [k, x] : v.get_object()) {
        if (!first) out += ',';
        first = false;
        out += json::serialize(json::string(k));
        out += ':';
        write(out, x);
      }
      out += '}';
      return;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (auto& x : v.get_array()) {
        if (!first) out += ',';
        first = false;
        write(out, x);
      }
      out += ']';
      return;
    }
    default:
      out += json::serialize(v);
  }
}
}  // namespace

std::string to_text(const json::value& v) {
  std::string out;
  write(out, v);
  return out;
}

json::array kinds_to_json(const registry& kinds, const config::settings& settings) {
  auto seconds = [](duration d) { return std::chrono::duration<double>(d).count(); };
  json::array out;
  for (const auto& name : kinds.kinds()) {
    const auto o = kinds.effective(name, settings);
    out.push_back(json::object{{"kind", name},
                               {"max_attempts", o.retry.max_attempts},
                               {"retry_base_s", seconds(o.retry.base)},
                               {"retry_cap_s", seconds(o.retry.cap)},
                               {"retry_jitter", o.retry.jitter},
                               {"timeout_s", seconds(o.timeout)},
                               {"max_snoozes", o.snoozes.max_snoozes},
                               {"max_snooze_total_s", seconds(o.snoozes.max_total)},
                               {"payload_checked", static_cast<bool>(o.check_payload)}});
  }
  return out;
}

}  // namespace spool::jobs
