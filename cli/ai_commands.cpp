#include "cli/ai_commands.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <iostream>

#include "jobs/json.hpp"
#include "kinds/ai/result_json.hpp"
#include "kinds/ai/results_store.hpp"
#include "kinds/ai/schema.hpp"

namespace spool::cli {
namespace json = boost::json;

namespace {

// The results tables are the AI kinds' schema: apply it (after the store's own) first, as every
// command does.
std::unique_ptr<kinds::ai::results_store> open_results(const config::settings& s) {
  store::open(s.db, {.schemas = {kinds::ai::schema()}})->migrate();
  return kinds::ai::results_store::open(s.db);
}

std::string text_of(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_array()) {
    std::string out;
    for (auto& item : v.get_array()) out += (out.empty() ? "" : ", ") + text_of(item);
    return out.empty() ? "-" : out;
  }
  return json::serialize(v);
}

// One "key: value" line per field, in order; `nested` (an object field) is printed flat after.
void print_fields(std::ostream& out, const json::object& o, std::string_view nested = {}) {
  for (auto& [key, value] : o) {
    if (key == nested) continue;
    std::string label = std::string(key) + ":";
    label.resize(std::max<std::size_t>(label.size() + 1, 18), ' ');
    out << label << text_of(value) << "\n";
  }
  if (auto* inner = nested.empty() ? nullptr : o.if_contains(nested); inner && inner->is_object())
    print_fields(out, inner->get_object());
}

}  // namespace

int activities_show(const config::settings& s, const std::string& activity_id, bool as_json) {
  auto found = open_results(s)->find_result(activity_id);
  if (!found) {
    std::cerr << "spool: no result for activity '" << activity_id
              << "' (not processed yet, or unknown)\n";
    return 1;
  }
  const auto o = kinds::ai::to_json(*found);
  if (as_json) {
    std::cout << json::serialize(o) << "\n";
    return 0;
  }
  print_fields(std::cout, o, "analysis");
  return 0;
}

int profiles_show(const config::settings& s, const std::string& user_id, bool as_json) {
  auto found = open_results(s)->find_profile(user_id);
  if (!found) {
    std::cerr << "spool: no profile for user '" << user_id << "' (none of their activities "
              << "processed yet, or the profile job is still waiting)\n";
    return 1;
  }
  const auto o = kinds::ai::to_json(*found);
  if (as_json) {
    std::cout << json::serialize(o) << "\n";
    return 0;
  }
  print_fields(std::cout, o, "profile");
  return 0;
}

}  // namespace spool::cli
