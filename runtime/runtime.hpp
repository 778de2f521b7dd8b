#pragma once
// The runtime (public: <spool/runtime.hpp>) and what Spool's own layers reach through it: the
// store's executor and the metrics, which are not part of the public API.
#include <spool/runtime.hpp>

#include "config/config.hpp"
#include "jobs/registry.hpp"
#include "persistence/store.hpp"
#include "runtime/metrics.hpp"

namespace spool::store {
class db_executor;
}

namespace spool::runtime {

struct internal_access {
  static store::db_executor& db(runtime& rt);
  static metrics& stats(runtime& rt);
  static const metrics& stats(const runtime& rt);
  static bool leads(const runtime& rt);
};

// The runtime's database connections (http/, cli/, tests).
inline store::db_executor& db_of(runtime& rt) { return internal_access::db(rt); }
// The runtime's metrics, e.g. to add a kind's own series (metrics::add_source).
inline metrics& stats_of(runtime& rt) { return internal_access::stats(rt); }
inline const metrics& stats_of(const runtime& rt) { return internal_access::stats(rt); }
// Whether this node holds the maintenance leadership now (it exports the cluster-wide metrics).
inline bool leads(const runtime& rt) { return internal_access::leads(rt); }

}  // namespace spool::runtime
