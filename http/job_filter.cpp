#include "http/job_filter.hpp"

#include <array>

#include "jobs/json.hpp"

namespace spool::http {

namespace {
constexpr std::array<std::string_view, 10> keys{"state", "kind", "queue", "unique_key", "created_after",
                                                "created_before", "finished_after", "finished_before",
                                                "error", "error_contains"};
}  // namespace

bool is_filter_key(std::string_view key) {
  for (auto k : keys)
    if (k == key) return true;
  return false;
}

std::optional<response> apply_filter(store::list_filter& f, std::string_view key, const std::string& value,
                                     std::optional<jobs::state> forced) {
  auto time = [&](std::optional<jobs::time_point>& into) -> std::optional<response> {
    into = jobs::parse_rfc3339(value);
    if (!into) return error(422, "invalid_parameter", std::string(key) + " must be an RFC 3339 time, not '" + value + "'");
    return std::nullopt;
  };
  if (key == "state") {
    auto s = jobs::parse_state(value);
    if (!s) return error(422, "invalid_parameter", "unknown state '" + value + "'");
    if (forced && *s != *forced)
      return error(422, "invalid_parameter",
                   "this endpoint lists " + std::string(jobs::to_string(*forced)) + " jobs only, not '" + value + "'");
    f.state = s;
  } else if (key == "kind") {
    f.kind = value;
  } else if (key == "queue") {
    f.queue = value;
  } else if (key == "unique_key") {
    f.unique_key = value;
  } else if (key == "created_after") {
    return time(f.created_after);
  } else if (key == "created_before") {
    return time(f.created_before);
  } else if (key == "finished_after") {
    return time(f.finished_after);
  } else if (key == "finished_before") {
    return time(f.finished_before);
  } else if (key == "error" || key == "error_contains") {
    if (value.empty()) return error(422, "invalid_parameter", "error must not be empty");
    f.error_contains = value;
  } else {
    return error(400, "bad_request", "unknown parameter '" + std::string(key) + "'");
  }
  return std::nullopt;
}

bool any_filter(const store::list_filter& f) {
  return f.state || f.kind || f.queue || f.unique_key || f.created_after || f.created_before ||
         f.finished_after || f.finished_before || f.error_contains;
}

}  // namespace spool::http
