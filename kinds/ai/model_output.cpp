#include "kinds/ai/model_output.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <array>

#include "kinds/ai/prompt.hpp"

namespace spool::kinds::ai {
namespace json = boost::json;

namespace {

std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string lower(std::string_view s) {
  std::string out(trim(s));
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Why the answer is not what was asked for.
struct reason {
  std::string text;
};
template <class T>
using or_reason = std::variant<T, reason>;

reason field_reason(std::string_view name, std::string_view what) {
  return {"model output field '" + std::string(name) + "' " + std::string(what)};
}

// Parses the answer as a JSON object, or says why it is not one.
or_reason<json::object> object_of(std::string_view content) {
  const auto text = strip_fences(content);
  if (text.empty()) return reason{"model output is empty"};
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec) {
    const auto head = utf8_prefix(text, 80);
    return reason{"model output is not JSON (" + ec.message() + "): " + std::string(head) +
                  (head.size() < text.size() ? "..." : "")};
  }
  if (!v.is_object()) return reason{"model output is JSON but not an object"};
  return std::move(v.get_object());
}

or_reason<std::string> string_field(const json::object& o, std::string_view name,
                                    std::size_t max_bytes) {
  const auto* v = o.if_contains(name);
  if (!v) return reason{"model output lacks field '" + std::string(name) + "'"};
  if (!v->is_string()) return field_reason(name, "is not a string");
  const auto s = trim(v->get_string());
  if (s.empty()) return field_reason(name, "is empty");
  return std::string(utf8_prefix(s, max_bytes));
}

// A list of short strings: trimmed, blanks and duplicates dropped, cut to `max_items`.
or_reason<std::vector<std::string>> list_field(const json::object& o, std::string_view name,
                                               std::size_t max_items, bool lowercase) {
  const auto* v = o.if_contains(name);
  if (!v) return reason{"model output lacks field '" + std::string(name) + "'"};
  if (!v->is_array()) return field_reason(name, "is not an array");
  std::vector<std::string> out;
  for (const auto& item : v->get_array()) {
    if (!item.is_string()) return field_reason(name, "holds something other than strings");
    std::string s = lowercase ? lower(item.get_string()) : std::string(trim(item.get_string()));
    s = std::string(utf8_prefix(s, 80));
    if (s.empty() || std::find(out.begin(), out.end(), s) != out.end()) continue;
    if (out.size() < max_items) out.push_back(std::move(s));
  }
  return out;
}

template <std::size_t N>
or_reason<std::string> choice_field(const json::object& o, std::string_view name,
                                    const std::array<std::string_view, N>& choices) {
  auto got = string_field(o, name, 64);
  if (auto* why = std::get_if<reason>(&got)) return std::move(*why);
  auto value = lower(std::get<std::string>(got));
  if (std::find(choices.begin(), choices.end(), value) != choices.end()) return value;
  std::string list;
  for (auto c : choices) list += (list.empty() ? "" : ", ") + std::string(c);
  return field_reason(name, "is '" + value + "', not one of " + list);
}

// Moves the value out of `got` into `out`; false (and `why` set) when it holds a reason.
template <class T>
bool take(or_reason<T>&& got, T& out, std::string& why) {
  if (auto* r = std::get_if<reason>(&got)) {
    why = std::move(r->text);
    return false;
  }
  out = std::move(std::get<T>(got));
  return true;
}

}  // namespace

std::string_view strip_fences(std::string_view content) {
  auto text = trim(content);
  if (text.starts_with("```")) {
    const auto first_line = text.find('\n');
    if (first_line == std::string_view::npos) return {};
    text.remove_prefix(first_line + 1);  // "```" or "```json"
    text = trim(text);
    if (text.ends_with("```")) text.remove_suffix(3);
    text = trim(text);
  }
  return text;
}

std::variant<activity_analysis, std::string> parse_analysis(std::string_view content) {
  auto parsed = object_of(content);
  if (auto* why = std::get_if<reason>(&parsed)) return std::move(why->text);
  const auto& o = std::get<json::object>(parsed);
  activity_analysis a;
  std::string why;
  if (!take(string_field(o, "summary", max_summary_chars), a.summary, why) ||
      !take(choice_field(o, "category", categories), a.category, why) ||
      !take(list_field(o, "tags", max_tags, true), a.tags, why) ||
      !take(choice_field(o, "sentiment", sentiments), a.sentiment, why))
    return why;
  return a;
}

std::variant<profile, std::string> parse_profile(std::string_view content) {
  auto parsed = object_of(content);
  if (auto* why = std::get_if<reason>(&parsed)) return std::move(why->text);
  const auto& o = std::get<json::object>(parsed);
  profile p;
  std::string why;
  if (!take(list_field(o, "interests", max_interests, false), p.interests, why) ||
      !take(string_field(o, "activity_summary", max_profile_summary_chars), p.activity_summary, why) ||
      !take(list_field(o, "traits", max_traits, false), p.traits, why))
    return why;
  if (p.interests.empty()) return std::string("model output field 'interests' is empty");
  return p;
}

}  // namespace spool::kinds::ai
