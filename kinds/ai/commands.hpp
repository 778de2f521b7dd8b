#pragma once
// The AI kinds' commands of the `spool` binary, added to its command line:
//   spool activities show ID [--json]   the analysis activity_processing wrote
//   spool profiles show USER [--json]   the profile profile_generation wrote
// Each command sets `action` when parsed; `settings` gives the layered settings (file, env, flags).
#include <CLI/CLI.hpp>
#include <functional>

#include "config/config.hpp"

namespace spool::kinds::ai {

void add_commands(CLI::App& app, std::function<config::settings()> settings, std::function<int()>& action);

}  // namespace spool::kinds::ai
