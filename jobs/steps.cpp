#include "jobs/steps.hpp"

#include <map>
#include <set>

namespace spool::jobs {

std::variant<step_order, std::string> order_steps(const std::vector<step_names>& steps) {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].name.empty()) continue;
    if (!index.emplace(steps[i].name, i).second)
      return "step name '" + steps[i].name + "' is used twice";
  }
  // Kahn's algorithm, always taking the first ready step: the given order where it can be kept.
  std::vector<std::vector<std::size_t>> parents(steps.size()), children(steps.size());
  std::vector<std::size_t> open(steps.size(), 0);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    std::set<std::size_t> seen;
    for (const auto& need : steps[i].needs) {
      auto it = index.find(need);
      if (it == index.end()) return "step " + std::to_string(i) + " needs '" + need + "', which no step of the batch is named";
      if (it->second == i) return "step '" + need + "' needs itself";
      if (!seen.insert(it->second).second) continue;
      parents[i].push_back(it->second);
      children[it->second].push_back(i);
      ++open[i];
    }
  }
  std::set<std::size_t> ready;
  for (std::size_t i = 0; i < steps.size(); ++i)
    if (open[i] == 0) ready.insert(i);
  step_order out;
  std::vector<std::size_t> position(steps.size(), 0);
  while (!ready.empty()) {
    const auto i = *ready.begin();
    ready.erase(ready.begin());
    position[i] = out.order.size();
    out.order.push_back(i);
    for (auto c : children[i])
      if (--open[c] == 0) ready.insert(c);
  }
  if (out.order.size() != steps.size()) {
    std::string cycle;
    for (std::size_t i = 0; i < steps.size(); ++i)
      if (open[i] > 0) cycle += (cycle.empty() ? "'" : ", '") + (steps[i].name.empty() ? std::to_string(i) : steps[i].name) + "'";
    return "steps " + cycle + " need each other in a cycle (or need a step that does)";
  }
  out.needs.resize(steps.size());
  for (std::size_t i = 0; i < steps.size(); ++i)
    for (auto p : parents[i]) out.needs[i].push_back(position[p]);
  return out;
}

}  // namespace spool::jobs
