#pragma once
// The AI kinds' own tables, as a schema the store migrates after its own: whoever opens the
// database for these kinds (`spool run`, `spool migrate`, the AI commands, an embedder) passes it
// in store::open_options::schemas or to runtime::runtime.
#include "persistence/schema.hpp"

namespace spool::kinds::ai {

const store::schema& schema();

}  // namespace spool::kinds::ai
