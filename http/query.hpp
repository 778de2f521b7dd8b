#pragma once
// Request-target parsing: path segments and percent-decoded query parameters.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spool::http {

struct target {
  std::vector<std::string> segments;  // "/api/v1/jobs/7" -> {"api","v1","jobs","7"}
  std::map<std::string, std::string> query;
};

// Nothing when the target is not a well-formed origin-form path.
std::optional<target> parse_target(std::string_view raw);
std::optional<std::string> percent_decode(std::string_view s);

}  // namespace spool::http
