#include "kinds/ai/analysis.hpp"

#include <algorithm>
#include <boost/json/array.hpp>

namespace spool::kinds::ai {
namespace json = boost::json;

namespace {
json::array strings(const std::vector<std::string>& v) {
  json::array out;
  for (auto& s : v) out.emplace_back(s);
  return out;
}
}  // namespace

json::object to_json(const activity_analysis& a) {
  return {{"summary", a.summary},
          {"category", a.category},
          {"tags", strings(a.tags)},
          {"sentiment", a.sentiment}};
}

json::object to_json(const profile& p) {
  return {{"interests", strings(p.interests)},
          {"activity_summary", p.activity_summary},
          {"traits", strings(p.traits)}};
}

bool is_category(std::string_view c) {
  return std::find(categories.begin(), categories.end(), c) != categories.end();
}

bool is_sentiment(std::string_view s) {
  return std::find(sentiments.begin(), sentiments.end(), s) != sentiments.end();
}

}  // namespace spool::kinds::ai
