#pragma once
// `spool activities show` and `spool profiles show`: what the built-in AI kinds wrote.
#include <string>

#include "config/config.hpp"

namespace spool::cli {

int activities_show(const config::settings& s, const std::string& activity_id, bool json);
int profiles_show(const config::settings& s, const std::string& user_id, bool json);

}  // namespace spool::cli
