#include "kinds/ai/payload.hpp"

#include <array>
#include <optional>

#include "jobs/json.hpp"

namespace spool::kinds::ai {
namespace json = boost::json;

namespace {

// A required string field of at most `limit` bytes with something other than blanks in it.
std::variant<std::string, payload_error> text_field(const json::object& o, std::string_view name,
                                                    std::size_t limit) {
  const std::string field(name);
  const auto* v = o.if_contains(name);
  if (!v) return payload_error{field, "is missing"};
  if (!v->is_string()) return payload_error{field, "must be a string"};
  const auto& s = v->get_string();
  if (s.find_first_not_of(" \t\r\n") == json::string::npos)
    return payload_error{field, "must not be empty"};
  if (s.size() > limit)
    return payload_error{field, "is longer than " + std::to_string(limit) + " bytes"};
  return std::string(s);
}

template <std::size_t N>
std::optional<payload_error> unknown_field(const json::object& o,
                                           const std::array<std::string_view, N>& known) {
  for (auto& [key, _] : o) {
    bool ok = false;
    for (auto k : known) ok = ok || key == k;
    if (!ok) return payload_error{std::string(key), "is not a known field"};
  }
  return std::nullopt;
}

}  // namespace

std::variant<activity, payload_error> parse_activity(const json::object& payload) {
  static constexpr std::array<std::string_view, 5> known{"user_id", "activity_id", "type", "text",
                                                         "occurred_at"};
  activity a;
  // In the documented order, so that the first problem reported is the first one a reader sees.
  struct spec {
    std::string_view name;
    std::size_t limit;
    std::string* into;
  };
  std::string occurred;
  const std::array<spec, 5> fields{{{"user_id", max_id_bytes, &a.user_id},
                                    {"activity_id", max_id_bytes, &a.activity_id},
                                    {"type", max_type_bytes, &a.type},
                                    {"text", max_text_bytes, &a.text},
                                    {"occurred_at", 64, &occurred}}};
  for (const auto& f : fields) {
    auto got = text_field(payload, f.name, f.limit);
    if (auto* bad = std::get_if<payload_error>(&got)) return std::move(*bad);
    *f.into = std::move(std::get<std::string>(got));
  }
  auto when = jobs::parse_rfc3339(occurred);
  if (!when) return payload_error{"occurred_at", "must be an RFC 3339 time, like 2026-11-28T14:00:00Z"};
  a.occurred_at = *when;
  if (auto bad = unknown_field(payload, known)) return std::move(*bad);
  return a;
}

std::variant<std::string, payload_error> parse_profile_request(const json::object& payload) {
  static constexpr std::array<std::string_view, 1> known{"user_id"};
  auto user = text_field(payload, "user_id", max_id_bytes);
  if (std::holds_alternative<payload_error>(user)) return user;
  if (auto bad = unknown_field(payload, known)) return std::move(*bad);
  return user;
}

}  // namespace spool::kinds::ai
