#pragma once
// Where Spool's log lines go. By default they are written to stderr through a private spdlog
// logger, one line per event, formatted as settings::log_format says and filtered by
// settings::log_level. An application that owns logging hands Spool its own destination; the
// lines keep their format and level filter.
#include <functional>
#include <memory>
#include <string_view>

namespace spdlog {
class logger;
}

namespace spool::log {

enum class level { debug, info, warn, error };

// Receives each line (without a trailing newline), on whichever thread logged it: it must be
// thread-safe and should not block for long.
using handler = std::function<void(level, std::string_view line)>;

// Every line goes to `h` instead; an empty handler restores the default.
void set_handler(handler h);
// Every line goes to the application's spdlog logger, at the matching spdlog level (debug, info,
// warn, err); its sinks and pattern apply. nullptr restores the default.
void set_logger(std::shared_ptr<spdlog::logger> logger);

}  // namespace spool::log
