#pragma once
#include <string>
#include <vector>

#include "persistence/store.hpp"

namespace spool::runtime {
class runtime;
}

namespace spool::http {

// What the database says of the whole cluster. Only the leader exports it: every node would read
// the same numbers, and a sum over nodes would count each job once per node.
struct cluster_view {
  store::stats counts;
  std::vector<store::node_info> nodes;
  jobs::time_point now;
  std::vector<store::limit_use> limits = {};
};

// Reads the cluster view on the store's thread (the leader's /metrics).
cluster_view read_cluster_view(store::store& s, std::span<const jobs::concurrency_limit> limits);

// The whole /metrics page in Prometheus text format 0.0.4: this node's counters and histograms,
// whether it leads, build info and process metrics; with `cluster` (the leader's), the job, queue
// and node gauges of the whole cluster.
std::string render_metrics(const runtime::runtime& rt, const cluster_view* cluster);

}  // namespace spool::http
