#pragma once
#include "jobs/registry.hpp"

namespace spool::kinds {

// Kinds for tests, demos and the benchmark: noop; sleep {"ms":N,"steps":1} (a cancellable timer;
// with steps > 1 it reports progress after each of them);
// fail {"times":N,"permanent":false} (fails its first N attempts); abort {} (kills the process).
// Misbehaving handlers, for the fault-injection tests: throw {} (throws a non-std exception);
// hang {} (never completes unless cancelled); hog {"step_mb":1,"cap_mb":256} (allocates without
// bound up to the cap, yielding between steps); block {"ms":N} (blocks its io_context thread).
void register_diagnostic(jobs::registry& reg);

}  // namespace spool::kinds
