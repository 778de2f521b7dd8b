#include "runtime/retention.hpp"

#include <chrono>
#include <optional>

namespace spool::runtime {

std::vector<store::prune_request> prune_plan(const config::retention_settings& r,
                                             jobs::time_point now, int batch) {
  using keep = std::optional<double> config::retention_override::*;
  struct by_state {
    jobs::state state;
    double all;
    keep own;
  };
  const by_state states[] = {
      {jobs::state::completed, r.completed_s, &config::retention_override::completed_s},
      {jobs::state::cancelled, r.cancelled_s, &config::retention_override::cancelled_s},
      {jobs::state::dead, r.dead_s, &config::retention_override::dead_s},
  };
  auto before = [now](double seconds) {
    return now - std::chrono::duration_cast<jobs::duration>(std::chrono::duration<double>(seconds));
  };
  std::vector<store::prune_request> out;
  for (const auto& st : states) {
    std::vector<std::string> own;
    for (const auto& [queue, o] : r.queues) {
      if (!(o.*st.own)) continue;
      own.push_back(queue);
      if (*(o.*st.own) >= 0)
        out.push_back({.state = st.state, .before = before(*(o.*st.own)), .queue = queue,
                       .except = {}, .limit = batch});
    }
    if (st.all >= 0)
      out.push_back({.state = st.state, .before = before(st.all), .queue = std::nullopt,
                     .except = own, .limit = batch});
  }
  return out;
}

}  // namespace spool::runtime
