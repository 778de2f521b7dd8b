#pragma once
// Lets Boost.Test print Spool's enums in failure messages.
#include <ostream>

#include "jobs/lifecycle.hpp"
#include "jobs/state.hpp"
#include "persistence/store.hpp"

namespace spool::jobs {
inline std::ostream& operator<<(std::ostream& o, state s) { return o << to_string(s); }
inline std::ostream& operator<<(std::ostream& o, transition::to t) { return o << to_string(t); }
inline std::ostream& operator<<(std::ostream& o, outcome::type t) { return o << static_cast<int>(t); }
}  // namespace spool::jobs

namespace spool::jobs {  // cancel_result, retry_result (store:: names them too)
inline std::ostream& operator<<(std::ostream& o, cancel_result r) { return o << static_cast<int>(r); }
inline std::ostream& operator<<(std::ostream& o, retry_result r) { return o << static_cast<int>(r); }
}  // namespace spool::jobs
