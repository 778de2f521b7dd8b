#pragma once
#include "jobs/registry.hpp"

namespace spool::jobs::kinds {

// Kinds for tests, demos and the benchmark: noop; sleep {"ms":N} (a cancellable timer);
// fail {"times":N,"permanent":false} (fails its first N attempts); abort {} (kills the process).
void register_diagnostic(registry& reg);

}  // namespace spool::jobs::kinds
