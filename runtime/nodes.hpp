#pragma once
// How the admin API and `spool nodes` show a registered node.
#include <boost/json/object.hpp>

#include "jobs/json.hpp"
#include "persistence/store.hpp"

namespace spool::runtime {

// `alive`: it heartbeat within one leader TTL (nodes heartbeat every third of it).
inline boost::json::object to_json(const store::node_info& n, jobs::time_point now,
                                   jobs::duration leader_ttl) {
  boost::json::array queues;
  for (const auto& q : n.queues) queues.emplace_back(q);
  return {{"id", n.id},
          {"host", n.host},
          {"pid", n.pid},
          {"started_at", jobs::to_rfc3339(n.started_at)},
          {"heartbeat_at", jobs::to_rfc3339(n.heartbeat_at)},
          {"queues", std::move(queues)},
          {"leader", n.leader},
          {"alive", now - n.heartbeat_at < leader_ttl}};
}

}  // namespace spool::runtime
