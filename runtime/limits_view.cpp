#include "runtime/limits_view.hpp"

#include <boost/json.hpp>

namespace spool::runtime {

namespace json = boost::json;

namespace {

std::int64_t total(const store::limit_use& u) {
  std::int64_t n = 0;
  for (const auto& [_, k] : u.running) n += k;
  return n;
}

bool any_full(const store::limit_use& u) {
  for (const auto& [_, k] : u.running)
    if (k >= u.limit.concurrency) return true;
  return false;
}

json::value or_null(const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); }

}  // namespace

std::vector<jobs::concurrency_limit> limits_of(const config::settings& s) {
  std::vector<jobs::concurrency_limit> out;
  for (const auto& l : s.limits) out.push_back({l.kind, l.queue, l.concurrency, l.partition_by});
  return out;
}

json::array limits_to_json(std::span<const store::limit_use> use) {
  json::array out;
  for (const auto& u : use) {
    json::object o{{"name", u.limit.name()},
                   {"kind", or_null(u.limit.kind)},
                   {"queue", or_null(u.limit.queue)},
                   {"concurrency", u.limit.concurrency},
                   {"partition_by", or_null(u.limit.partition_by)},
                   {"running", total(u)},
                   {"full", any_full(u)},
                   {"waiting", u.waiting},
                   {"waiting_capped", u.waiting_capped}};
    if (!u.limit.partition_by.empty()) {
      json::object parts;
      for (const auto& [value, n] : u.running) parts[value] = n;
      o["partitions"] = std::move(parts);
    }
    out.push_back(std::move(o));
  }
  return out;
}

std::optional<std::string> held_back(const jobs::job& j, std::span<const store::limit_use> use) {
  if (j.st != jobs::state::available) return std::nullopt;
  for (const auto& u : use) {
    if (!u.limit.matches(j.kind, j.queue)) continue;
    const auto group = u.limit.partition_by.empty() ? std::string{}
                                                    : jobs::partition_value(j.payload, u.limit.partition_by);
    const auto it = u.running.find(group);
    const std::int64_t n = it == u.running.end() ? 0 : it->second;
    if (n < u.limit.concurrency) continue;
    std::string why = "limit " + u.limit.name();
    if (!u.limit.partition_by.empty()) why += " (" + u.limit.partition_by + " = " + group + ")";
    return why + " is full (" + std::to_string(n) + " of " + std::to_string(u.limit.concurrency) + " running)";
  }
  return std::nullopt;
}

std::optional<std::string> held_back(store::store& s, const jobs::job& j,
                                     std::span<const jobs::concurrency_limit> limits, jobs::time_point now) {
  if (j.st != jobs::state::available) return std::nullopt;
  std::vector<jobs::concurrency_limit> counting;
  for (const auto& l : limits)
    if (l.matches(j.kind, j.queue)) counting.push_back(l);
  if (counting.empty()) return std::nullopt;
  return held_back(j, s.limit_usage(counting, now));
}

}  // namespace spool::runtime
