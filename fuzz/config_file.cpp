// Fuzz target: a config file (and SPOOL_* environment) -> config::apply_json, config::apply_env and
// config::validate, in the order `spool run` applies them; then, for settings that validate,
// what their users do with them: durations as the runtime converts them, and the --http address.
// Input: the file's text, then optionally a NUL byte and NAME=VALUE lines of the environment.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "http/server.hpp"

namespace {

using namespace spool;

// As runtime/core.cpp turns seconds into the runtime's durations; UBSan reports a value that
// does not fit (float-cast-overflow), so validation must not let one through.
std::chrono::microseconds to_duration(double seconds) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::duration<double>(seconds));
}

void use(const config::settings& s) {
  for (double d : {s.grace_s, s.poll_interval_s, s.lease_s, s.lease_s / 3, s.rescue_interval_s,
                   s.http_timeout_s, s.inference.timeout_s, s.inference.timeout_s + 60,
                   s.profiles.debounce_s})
    (void)to_duration(d);
  for (auto& [name, k] : s.kinds)
    for (auto d : {k.retry_base_s, k.retry_cap_s, k.timeout_s})
      if (d) (void)to_duration(*d);
  if (s.http != "off") {
    try {
      (void)http::parse_listen(s.http);
    } catch (const std::invalid_argument&) {  // `spool run` reports it as a usage error
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto nul = input.find('\0');
  const auto file = input.substr(0, nul);
  std::map<std::string, std::string> env;
  for (auto rest = nul == std::string_view::npos ? std::string_view{} : input.substr(nul + 1);
       !rest.empty();) {
    const auto line = rest.substr(0, rest.find('\n'));
    rest.remove_prefix(std::min(rest.size(), line.size() + 1));
    const auto eq = line.find('=');
    if (eq != std::string_view::npos) env[std::string(line.substr(0, eq))] = line.substr(eq + 1);
  }

  config::settings s;
  try {
    config::apply_json(s, file, "fuzz.json");
    config::apply_env(s, [&](const char* name) -> const char* {
      auto it = env.find(name);
      return it == env.end() ? nullptr : it->second.c_str();
    });
    config::validate(s);
  } catch (const config::config_error& e) {
    if (std::string_view(e.what()).empty()) std::abort();  // every rejection names its key
    return 0;
  }
  use(s);
  return 0;
}
