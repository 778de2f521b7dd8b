#include "jobs/progress.hpp"

#include <cmath>

namespace spool::jobs {

std::optional<std::string> check_progress(double fraction) {
  if (std::isnan(fraction) || fraction < 0 || fraction > 1)
    return "progress must be a fraction from 0 to 1";
  return std::nullopt;
}

std::string clip_progress_note(std::string_view note) {
  if (note.size() <= progress_note_max_bytes) return std::string(note);
  std::size_t end = progress_note_max_bytes;
  // Back off continuation bytes (10xxxxxx) so that the cut falls before a character's first byte.
  while (end > 0 && (static_cast<unsigned char>(note[end]) & 0xC0) == 0x80) --end;
  return std::string(note.substr(0, end));
}

}  // namespace spool::jobs
