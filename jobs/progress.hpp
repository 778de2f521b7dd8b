#pragma once
// How far a running attempt has come, as its handler reports it (job_context::progress). Kept
// with the running job only: it goes when the attempt ends.
#include <optional>
#include <string>
#include <string_view>

#include <spool/job.hpp>

namespace spool::jobs {

struct progress {
  double fraction = 0;  // 0..1
  std::string note;     // what the handler is doing, may be empty
  time_point at;        // when the handler reported it
};

// One report on its way to the store, fenced by the attempt's lease: a store writes it only
// while the job still runs under that lease.
struct progress_update {
  job_id id = 0;
  lease_id lease = 0;
  progress value;
};

// Longer notes are cut at this many bytes (on a UTF-8 character boundary).
inline constexpr std::size_t progress_note_max_bytes = 1024;

// Why `fraction` cannot be reported (not a number, or outside 0..1), or nothing.
std::optional<std::string> check_progress(double fraction);

// `note` cut to progress_note_max_bytes without splitting a UTF-8 character.
std::string clip_progress_note(std::string_view note);

}  // namespace spool::jobs
