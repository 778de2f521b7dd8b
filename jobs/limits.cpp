#include "jobs/limits.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace spool::jobs {

namespace json = boost::json;

namespace {
constexpr std::string_view payload_prefix = "payload.";
}

std::string concurrency_limit::name() const {
  std::string n;
  if (!kind.empty()) n = "kind:" + kind;
  if (!queue.empty()) n += (n.empty() ? "queue:" : ",queue:") + queue;
  if (!partition_by.empty()) n += "/" + partition_by;
  return n;
}

bool concurrency_limit::matches(std::string_view job_kind, std::string_view job_queue) const {
  return (kind.empty() || kind == job_kind) && (queue.empty() || queue == job_queue);
}

std::string partition_by_error(std::string_view p) {
  if (!p.starts_with(payload_prefix))
    return "must name a payload field, as \"payload.user_id\"";
  auto rest = p.substr(payload_prefix.size());
  if (rest.empty()) return "names no field after \"payload.\"";
  std::size_t part = 0;
  for (char c : rest) {
    if (c == '.') {
      if (part == 0) return "has an empty field name";
      part = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return "may hold only letters, digits, '_', '-' and '.' in field names";
    ++part;
  }
  if (part == 0) return "has an empty field name";
  return {};
}

std::string partition_value(std::string_view payload, std::string_view partition_by) {
  json::error_code ec;
  const auto doc = json::parse(payload, ec);
  if (ec) return {};
  const json::value* at = &doc;
  auto path = partition_by.substr(std::min(partition_by.size(), payload_prefix.size()));
  while (!path.empty()) {
    const auto dot = path.find('.');
    const auto field = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    const auto* obj = at->if_object();
    if (!obj) return {};
    at = obj->if_contains(field);
    if (!at) return {};
  }
  if (const auto* s = at->if_string()) return std::string(*s);
  return json::serialize(*at);
}

bool limit_ledger::full(std::size_t i, const std::string& partition) const {
  return used({i, partition}) >= limits_[i].concurrency;
}

std::int64_t limit_ledger::used(const limit_group& g) const {
  const auto it = used_.find(g);
  return it == used_.end() ? 0 : it->second;
}

bool limit_ledger::admit(std::string_view kind, std::string_view queue, std::string_view payload) {
  std::vector<limit_group> groups;
  for (std::size_t i = 0; i < limits_.size(); ++i) {
    const auto& l = limits_[i];
    if (!l.matches(kind, queue)) continue;
    limit_group g{i, l.partition_by.empty() ? std::string{} : partition_value(payload, l.partition_by)};
    if (full(g.first, g.second)) return false;
    groups.push_back(std::move(g));
  }
  for (auto& g : groups) ++used_[g];
  return true;
}

std::vector<std::string> limit_ledger::full_kinds(std::string_view queue) const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < limits_.size(); ++i) {
    const auto& l = limits_[i];
    if (l.kind.empty() || !l.partition_by.empty() || !l.applies_to_queue(queue)) continue;
    if (full(i, {}) && std::find(out.begin(), out.end(), l.kind) == out.end()) out.push_back(l.kind);
  }
  return out;
}

bool limit_ledger::could_bind(std::int64_t more) const {
  std::vector<std::int64_t> total(limits_.size(), 0);
  for (const auto& [g, n] : used_) total[g.first] += n;
  for (std::size_t i = 0; i < limits_.size(); ++i)
    if (total[i] + more > limits_[i].concurrency) return true;
  return false;
}

bool limit_ledger::queue_full(std::string_view queue) const {
  for (std::size_t i = 0; i < limits_.size(); ++i) {
    const auto& l = limits_[i];
    if (l.kind.empty() && l.partition_by.empty() && l.queue == queue && full(i, {})) return true;
  }
  return false;
}

}  // namespace spool::jobs
