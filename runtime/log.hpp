#pragma once
// Structured logs: one line per event, as JSON or as text (`key=value`), written through spdlog.
//   log::info("job_succeeded").kv("job_id", id).kv("kind", kind);   // emitted at end of statement
#include <cstdint>
#include <fmt/format.h>
#include <string>
#include <string_view>

#include <spool/log.hpp>

namespace spool::log {

// Where lines go: <spool/log.hpp> (set_handler, set_logger).
// format: "text" or "json"; level: "debug" | "info" | "warn" | "error".
void configure(std::string_view format, std::string_view min_level);
bool enabled(level l);

class line {
 public:
  line(level l, std::string_view event);
  ~line();
  line(const line&) = delete;
  line& operator=(const line&) = delete;

  line& kv(std::string_view key, std::string_view value);
  line& kv(std::string_view key, const std::string& value) { return kv(key, std::string_view(value)); }
  line& kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
  line& kv(std::string_view key, std::int64_t value);
  line& kv(std::string_view key, int value) { return kv(key, static_cast<std::int64_t>(value)); }
  line& kv(std::string_view key, std::size_t value) { return kv(key, static_cast<std::int64_t>(value)); }
  line& kv(std::string_view key, double value);
  line& kv(std::string_view key, bool value);

 private:
  void key(std::string_view k);
  level level_;
  bool on_;
  bool json_;
  fmt::memory_buffer buf_;
};

inline line debug(std::string_view event) { return line(level::debug, event); }
inline line info(std::string_view event) { return line(level::info, event); }
inline line warn(std::string_view event) { return line(level::warn, event); }
inline line error(std::string_view event) { return line(level::error, event); }

}  // namespace spool::log
