#pragma once
// The one table of Spool's settings: JSON key, environment variable, `spool run` flag and help.
// The config file, the environment and the flags are all read through it, so a new setting is
// one row here (plus its check in validate()), and every error can say where a value came from.
#include <boost/json/fwd.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace spool::config {

struct key_spec {
  std::string_view json;  // "grace_s", "inference.url"
  std::string_view env;   // "SPOOL_GRACE_S", or empty
  std::string_view flag;  // "--grace", or empty; `--db` is global, the others belong to `spool run`
  std::string_view help;  // one line, shown by `spool run --help`
  std::string_view value_name;  // "SECONDS", "N", ...; empty for a switch (a boolean flag)
  std::function<void(settings&, const boost::json::value&, const origin&)> from_json;
  // Environment and flag values; nullptr when the key is only read from the config file.
  std::function<void(settings&, std::string_view, const origin&)> from_text;
};

// Every key, in the order the README's configuration tables list them.
const std::vector<key_spec>& keys();
const key_spec* find_key(std::string_view json);
const key_spec* find_flag(std::string_view flag);

// Applies a flag's value (`--grace 5`), as given on the command line.
void apply_flag(settings& s, const key_spec& key, std::string_view value);

}  // namespace spool::config
