#include "kinds/ai/commands.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <iostream>

#include "jobs/json.hpp"
#include "kinds/ai/result_json.hpp"
#include "kinds/ai/results_store.hpp"
#include "kinds/ai/schema.hpp"

namespace spool::kinds::ai {
namespace json = boost::json;

namespace {

// The results tables are the AI kinds' schema: apply it (after the store's own) first, as every
// command does.
std::unique_ptr<results_store> open_results(const config::settings& s) {
  store::open(s.db, {.schemas = {schema()}})->migrate();
  return results_store::open(s.db);
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

int show_activity(const config::settings& s, const std::string& activity_id, bool as_json) {
  auto found = open_results(s)->find_result(activity_id);
  if (!found) {
    std::cerr << "spool: no result for activity '" << activity_id
              << "' (not processed yet, or unknown)\n";
    return 1;
  }
  const auto o = to_json(*found);
  if (as_json) {
    std::cout << json::serialize(o) << "\n";
    return 0;
  }
  print_fields(std::cout, o, "analysis");
  return 0;
}

int show_profile(const config::settings& s, const std::string& user_id, bool as_json) {
  auto found = open_results(s)->find_profile(user_id);
  if (!found) {
    std::cerr << "spool: no profile for user '" << user_id << "' (none of their activities "
              << "processed yet, or the profile job is still waiting)\n";
    return 1;
  }
  const auto o = to_json(*found);
  if (as_json) {
    std::cout << json::serialize(o) << "\n";
    return 0;
  }
  print_fields(std::cout, o, "profile");
  return 0;
}

}  // namespace

void add_commands(CLI::App& app, std::function<config::settings()> settings, std::function<int()>& action) {
  auto add = [&](const char* group, const char* group_help, const char* show_help, const char* arg,
                 const char* arg_help, int (*show)(const config::settings&, const std::string&, bool)) {
    auto* g = app.add_subcommand(group, group_help);
    g->require_subcommand(1);
    g->fallthrough();
    auto* sh = g->add_subcommand("show", show_help);
    sh->fallthrough();
    // Owned by the subcommand's callback: they outlive this function, as the app does.
    auto key = std::make_shared<std::string>();
    auto as_json = std::make_shared<bool>(false);
    sh->add_option(arg, *key, arg_help)->required();
    sh->add_flag("--json", *as_json, "JSON output");
    sh->callback([&action, settings, show, key, as_json] {
      action = [settings, show, key, as_json] { return show(settings(), *key, *as_json); };
    });
  };
  add("activities", "Results of activity_processing", "Show the analysis of one activity", "id",
      "Activity id (the payload's activity_id)", show_activity);
  add("profiles", "Results of profile_generation", "Show the profile of one user", "user", "User id",
      show_profile);
}

}  // namespace spool::kinds::ai
