#pragma once
// The steps of a batch that name each other (POST /api/v1/jobs/batch with "name" and "needs"):
// the order in which to store them, each after the steps it needs, or why they cannot be.
#include <string>
#include <variant>
#include <vector>

namespace spool::jobs {

struct step_names {
  std::string name;                // "" for a step nobody needs to name
  std::vector<std::string> needs;  // names of other steps of the batch
};

// A stored order: order[k] is the step stored k-th; needs[i] lists, for step i, the positions in
// that order of the steps it needs.
struct step_order {
  std::vector<std::size_t> order;
  std::vector<std::vector<std::size_t>> needs;
};

// Every step after those it needs, otherwise as given. Refused, with a message that names the
// steps: a name used twice, a need that names no step (or the step itself), a cycle.
std::variant<step_order, std::string> order_steps(const std::vector<step_names>& steps);

}  // namespace spool::jobs
