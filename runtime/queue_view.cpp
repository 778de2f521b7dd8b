#include "runtime/queue_view.hpp"

#include "jobs/json.hpp"

namespace spool::runtime {
namespace json = boost::json;

std::map<std::string, json::object> queues_to_json(const store::stats& counts,
                                                   const std::vector<store::paused_queue>& paused,
                                                   const std::vector<std::string>& served,
                                                   jobs::time_point now) {
  std::map<std::string, json::object> out;
  auto row = [&](const std::string& name) -> json::object& {
    auto& o = out[name];
    if (o.empty()) {
      json::object zero;
      for (auto& [st, _] : counts.states) zero[st] = 0;
      o = json::object{{"name", name}, {"counts", std::move(zero)}, {"paused", false},
                       {"paused_since", nullptr}};
    }
    return o;
  };
  for (auto& [q, states] : counts.queues) {
    auto& c = row(q).at("counts").as_object();
    for (auto& [st, n] : states) c[st] = n;
  }
  for (auto& p : paused) {
    auto& o = row(p.queue);
    o["paused"] = true;
    o["paused_since"] = jobs::to_rfc3339(p.since);
  }
  for (auto& q : served) row(q);
  for (auto& [name, o] : out) {
    auto it = counts.oldest_available.find(name);
    o["oldest_available_age_s"] =
        it == counts.oldest_available.end()
            ? json::value(nullptr)
            : json::value(std::chrono::duration<double>(now - it->second).count());
  }
  return out;
}

}  // namespace spool::runtime
