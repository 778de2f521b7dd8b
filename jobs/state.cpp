#include "jobs/state.hpp"

#include <array>
#include <utility>

namespace spool::jobs {
namespace {
constexpr std::array<std::pair<state, std::string_view>, 8> names{{
    {state::scheduled, "scheduled"},
    {state::available, "available"},
    {state::running, "running"},
    {state::retrying, "retrying"},
    {state::completed, "completed"},
    {state::cancelled, "cancelled"},
    {state::dead, "dead"},
    {state::pending, "pending"},
}};
}  // namespace

std::string_view to_string(state s) {
  for (auto& [st, name] : names)
    if (st == s) return name;
  return "unknown";
}

std::optional<state> parse_state(std::string_view s) {
  for (auto& [st, name] : names)
    if (name == s) return st;
  return std::nullopt;
}

}  // namespace spool::jobs
