#include "jobs/registry.hpp"

#include <stdexcept>

namespace spool::jobs {

void registry::add(std::string kind, handler run, kind_options options) {
  if (kind.empty()) throw std::invalid_argument("job kind must not be empty");
  if (!run) throw std::invalid_argument("handler for kind '" + kind + "' is empty");
  entries_[std::move(kind)] = entry{std::move(run), options};
}

const registry::entry* registry::find(std::string_view kind) const {
  auto it = entries_.find(kind);
  return it == entries_.end() ? nullptr : &it->second;
}

registry::entry* registry::find(std::string_view kind) {
  auto it = entries_.find(kind);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<std::string> registry::kinds() const {
  std::vector<std::string> out;
  for (auto& [name, _] : entries_) out.push_back(name);
  return out;
}

}  // namespace spool::jobs
