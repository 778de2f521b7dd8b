#pragma once
// How the admin API and `spool nodes` show a registered node.
#include <algorithm>
#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "jobs/json.hpp"
#include "persistence/store.hpp"

namespace spool::runtime {

// `alive`: it heartbeat within one leader TTL (nodes heartbeat every third of it);
// `running_jobs`: the jobs running under its leases.
inline boost::json::object to_json(const store::node_info& n, jobs::time_point now,
                                   jobs::duration leader_ttl) {
  boost::json::array queues, kinds;
  for (const auto& q : n.queues) queues.emplace_back(q);
  for (const auto& k : n.kinds) kinds.emplace_back(k);
  return {{"id", n.id},
          {"host", n.host},
          {"pid", n.pid},
          {"started_at", jobs::to_rfc3339(n.started_at)},
          {"heartbeat_at", jobs::to_rfc3339(n.heartbeat_at)},
          {"queues", std::move(queues)},
          {"kinds", std::move(kinds)},
          {"leader", n.leader},
          {"alive", now - n.heartbeat_at < leader_ttl},
          {"heartbeat_age_s", std::chrono::duration<double>(now - n.heartbeat_at).count()},
          {"running_jobs", n.running}};
}

// The kinds some live node (heartbeat within one leader TTL) runs, sorted, without duplicates:
// what an enqueue may ask for without `force`.
inline std::vector<std::string> served_kinds(const std::vector<store::node_info>& nodes, jobs::time_point now,
                                             jobs::duration leader_ttl) {
  std::vector<std::string> out;
  for (const auto& n : nodes)
    if (now - n.heartbeat_at < leader_ttl) out.insert(out.end(), n.kinds.begin(), n.kinds.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace spool::runtime
