#pragma once
// The unique-key contract as plain code: which states hold a job's key, and the key that
// --unique-args derives from a job's kind, queue and payload.
//
// A job that carries a key holds it while it is in one of its chosen states (by default
// scheduled, available, running and retrying: every state from enqueue to its end) and, if
// unique_for > 0, while completed for that long after it finished. The store keeps one row per
// key naming its holder and decides, in the enqueue's own transaction, whether the holder still
// holds it by where the job is now: so the key is free exactly when its holder leaves those states.
#include <optional>
#include <string>
#include <string_view>

#include "jobs/job.hpp"

namespace boost::json {
class value;
}

namespace spool::jobs {

constexpr unsigned unique_bit(state s) { return 1u << static_cast<unsigned>(s); }

inline constexpr unsigned waiting_states =
    unique_bit(state::scheduled) | unique_bit(state::available) | unique_bit(state::retrying);
inline constexpr unsigned default_unique_states = waiting_states | unique_bit(state::running);
// new_job's default (<spool/job.hpp>, which cannot name states) must be this; a constexpr new_job
// is not possible under clang (its std::string members), so the jobs domain test checks it.

// Whether a job in state `s` (finished at `finalized_at`, if it did) holds its key at `now`.
bool holds_key(unsigned unique_states, duration unique_for, state s,
               std::optional<time_point> finalized_at, time_point now);

// "scheduled,available,running,retrying" (any non-empty subset, comma separated) -> bits;
// nullopt for anything else.
std::optional<unsigned> parse_unique_states(std::string_view list);
std::string unique_states_text(unsigned bits);

// JSON with object members sorted by key and no whitespace: equal values give equal text.
std::string canonical_json(const boost::json::value& v);
// "args:" + hex SHA-256 of kind, queue and the payload's canonical JSON. Throws
// std::invalid_argument if the payload is not JSON.
std::string args_key(std::string_view kind, std::string_view queue, std::string_view payload);

std::string sha256_hex(std::string_view data);

}  // namespace spool::jobs
