// The README and the program cannot drift apart: every command, flag and config key that
// `spool --help` and the key table know is in the README, and every one the README's command
// and configuration tables name exists.
#define BOOST_TEST_MODULE readme_sync
#include <boost/test/unit_test.hpp>
#include <cctype>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "config/keys.hpp"
#include "tests/e2e/sandbox.hpp"

using namespace spool::e2e;

namespace {

std::string source_file(const char* name) {
  std::ifstream in(std::string(SPOOL_SOURCE_DIR "/") + name);
  std::stringstream text;
  text << in.rdbuf();
  BOOST_REQUIRE_MESSAGE(!text.str().empty(), "cannot read " << name);
  return text.str();
}

std::string readme() { return source_file("README.md"); }

struct help_page {
  std::vector<std::string> subcommands;
  std::set<std::string> flags;
};

// CLI11's help: "Options:" lines start with "  -", "Subcommands:" lines with "  NAME".
help_page help_of(const std::vector<std::string>& path) {
  auto args = path;
  args.push_back("--help");
  sandbox sb;
  const auto r = sb.raw(args);
  BOOST_REQUIRE_MESSAGE(r.status == 0, "spool --help failed: " << r.err);
  help_page page;
  bool in_subcommands = false;
  for (auto& line : lines(r.out)) {
    if (line.starts_with("Subcommands:")) in_subcommands = true;
    else if (!line.empty() && line[0] != ' ') in_subcommands = false;
    if (in_subcommands && line.starts_with("  ") && line.size() > 2 && line[2] != ' ') {
      page.subcommands.push_back(line.substr(2, line.find(' ', 2) - 2));
    } else if (line.starts_with("  -")) {
      static const std::regex flag("--[a-z][a-z-]*");
      const auto names = line.substr(0, line.find("  ", 2));
      for (std::sregex_iterator it(names.begin(), names.end(), flag), end; it != end; ++it)
        page.flags.insert(it->str());
    }
  }
  return page;
}

bool mentions(const std::string& text, const std::string& word) {
  for (auto pos = text.find(word); pos != std::string::npos; pos = text.find(word, pos + 1)) {
    const auto after = pos + word.size();
    if (after == text.size() || !(std::isalnum(static_cast<unsigned char>(text[after])) ||
                                  text[after] == '-' || text[after] == '_'))
      return true;
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_command_and_flag_in_help_is_in_the_readme_and_back) {
  const auto text = readme();
  std::set<std::string> all_flags{"--help", "--db", "--config"}, commands;
  std::vector<std::vector<std::string>> todo{{}};
  while (!todo.empty()) {
    auto path = todo.back();
    todo.pop_back();
    const auto page = help_of(path);
    std::string name;
    for (auto& p : path) name += (name.empty() ? "" : " ") + p;
    for (auto& f : page.flags) {
      all_flags.insert(f);
      if (f != "--help")
        BOOST_TEST(mentions(text, f), "README lacks " << f << " of `spool " << name << "`");
    }
    if (!name.empty() && page.subcommands.empty()) {
      commands.insert(name);
      // "`spool jobs retry" in the command table, or "dlq requeue" after a "/" in its row
      BOOST_TEST((text.find("`spool " + name) != std::string::npos ||
                  text.find("`" + name + " ") != std::string::npos),
                 "README lacks the command `spool " << name << "`");
    }
    for (auto& sub : page.subcommands) {
      auto next = path;
      next.push_back(sub);
      todo.push_back(next);
    }
  }
  // Back: the command table names only commands and flags that exist.
  static const std::regex flag("--[a-z][a-z-]*"), command("`spool ([a-z]+(?: [a-z]+)?)");
  for (auto& line : lines(text)) {
    if (!line.starts_with("| `spool ")) continue;
    for (std::sregex_iterator it(line.begin(), line.end(), flag), end; it != end; ++it)
      BOOST_TEST(all_flags.count(it->str()) == 1u, "README names " << it->str() << ", no command has it");
    std::smatch m;
    if (!std::regex_search(line, m, command)) continue;  // `spool --version`: a flag, checked above
    bool exists = false;
    for (auto& c : commands) exists = exists || c == m[1].str() || c.starts_with(m[1].str() + " ");
    BOOST_TEST(exists, "README names `spool " << m[1].str() << "`, which does not exist");
  }
}

BOOST_AUTO_TEST_CASE(every_config_key_is_in_the_readme_and_back) {
  const auto text = readme();
  for (auto& key : spool::config::keys()) {
    BOOST_TEST(text.find("`" + std::string(key.json) + "`") != std::string::npos,
               "README lacks the config key " << key.json);
    if (!key.env.empty())
      BOOST_TEST(mentions(text, std::string(key.env)), "README lacks " << key.env);
  }
  // The first cell of each configuration table row names keys: `a` or `a`, `b`, ...
  static const std::regex row(R"(^\| `([a-z_.]+)`((?:, `[a-z_.]+`)*))"), more("`([a-z_.]+)`"),
      env("SPOOL_[A-Z_]+");
  bool in_metrics = false;  // the metrics table names metric families, not keys
  for (auto& line : lines(text)) {
    if (line.starts_with("#")) in_metrics = line == "### Metrics";
    std::smatch m;
    if (in_metrics || !std::regex_search(line, m, row) || line.starts_with("| `spool")) continue;
    std::vector<std::string> names{m[1].str()};
    const std::string rest = m[2].str();
    for (std::sregex_iterator it(rest.begin(), rest.end(), more), end; it != end; ++it)
      names.push_back((*it)[1].str());
    for (auto& n : names)
      BOOST_TEST(spool::config::find_key(n) != nullptr, "README documents `" << n << "`, no such key");
  }
  const auto cmake_lists = source_file("CMakeLists.txt");
  for (std::sregex_iterator it(text.begin(), text.end(), env), end; it != end; ++it) {
    const auto name = it->str();
    // Build options (cmake -DSPOOL_WERROR=OFF) are the build's, not settings.
    bool exists = name == "SPOOL_CONFIG" || cmake_lists.find("option(" + name) != std::string::npos;
    for (auto& key : spool::config::keys()) exists = exists || key.env == name;
    BOOST_TEST(exists, "README names " << name << ", which Spool does not read");
  }
}
