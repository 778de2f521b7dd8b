#include "runtime/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <memory>

namespace spool::log {
namespace {

std::atomic<int> min_level{static_cast<int>(level::info)};
std::atomic<bool> as_json{false};

// Where finished lines go: the application's handler, else a logger (by default a private one
// that writes to stderr). Swapped as a whole, so a line never sees half of a change.
struct destination {
  handler fn;
  std::shared_ptr<spdlog::logger> logger;
};

std::shared_ptr<const destination> default_destination() {
  auto l = std::make_shared<spdlog::logger>("spool", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  l->set_pattern("%v");
  l->set_level(spdlog::level::trace);
  return std::make_shared<const destination>(destination{{}, std::move(l)});
}

std::atomic<std::shared_ptr<const destination>>& current() {
  static std::atomic<std::shared_ptr<const destination>> d{default_destination()};
  return d;
}

spdlog::level::level_enum spdlog_level(level l) {
  switch (l) {
    case level::debug: return spdlog::level::debug;
    case level::info: return spdlog::level::info;
    case level::warn: return spdlog::level::warn;
    case level::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

constexpr std::string_view level_name(level l) {
  switch (l) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
  }
  return "info";
}

void append_json_string(fmt::memory_buffer& buf, std::string_view s) {
  buf.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': buf.append(std::string_view("\\\"")); break;
      case '\\': buf.append(std::string_view("\\\\")); break;
      case '\n': buf.append(std::string_view("\\n")); break;
      case '\r': buf.append(std::string_view("\\r")); break;
      case '\t': buf.append(std::string_view("\\t")); break;
      default:
        if (c < 0x20)
          fmt::format_to(std::back_inserter(buf), "\\u{:04x}", static_cast<int>(c));
        else
          buf.push_back(static_cast<char>(c));
    }
  }
  buf.push_back('"');
}

void append_text_value(fmt::memory_buffer& buf, std::string_view s) {
  const bool plain = !s.empty() && s.find_first_of(" \"=\n\t") == std::string_view::npos;
  if (plain)
    buf.append(s);
  else
    append_json_string(buf, s);
}

}  // namespace

void set_handler(handler h) {
  current().store(h ? std::make_shared<const destination>(destination{std::move(h), nullptr})
                    : default_destination());
}

void set_logger(std::shared_ptr<spdlog::logger> logger) {
  current().store(logger ? std::make_shared<const destination>(destination{{}, std::move(logger)})
                         : default_destination());
}

void configure(std::string_view format, std::string_view min) {
  as_json = format == "json";
  level l = level::info;
  if (min == "debug") l = level::debug;
  else if (min == "warn") l = level::warn;
  else if (min == "error") l = level::error;
  min_level = static_cast<int>(l);
}

bool enabled(level l) { return static_cast<int>(l) >= min_level.load(std::memory_order_relaxed); }

line::line(level l, std::string_view event)
    : level_(l), on_(enabled(l)), json_(as_json.load()) {
  if (!on_) return;
  const auto now = std::chrono::time_point_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now());
  const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(now);
  const auto us = (now - secs).count();
  const std::time_t t = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[40];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  if (json_) {
    fmt::format_to(std::back_inserter(buf_), R"({{"ts":"{}.{:06}Z","level":"{}","event":)", ts, us,
                   level_name(l));
    append_json_string(buf_, event);
  } else {
    fmt::format_to(std::back_inserter(buf_), "{}.{:06}Z {:<5} {}", ts, us, level_name(l), event);
  }
}

line::~line() {
  if (!on_) return;
  if (json_) buf_.push_back('}');
  const std::string_view text(buf_.data(), buf_.size());
  const auto to = current().load();
  if (to->fn)
    to->fn(level_, text);
  else
    to->logger->log(spdlog_level(level_), text);
}

void line::key(std::string_view k) {
  if (json_) {
    buf_.push_back(',');
    append_json_string(buf_, k);
    buf_.push_back(':');
  } else {
    buf_.push_back(' ');
    buf_.append(k);
    buf_.push_back('=');
  }
}

line& line::kv(std::string_view k, std::string_view v) {
  if (!on_) return *this;
  key(k);
  if (json_)
    append_json_string(buf_, v);
  else
    append_text_value(buf_, v);
  return *this;
}

line& line::kv(std::string_view k, std::int64_t v) {
  if (!on_) return *this;
  key(k);
  fmt::format_to(std::back_inserter(buf_), "{}", v);
  return *this;
}

line& line::kv(std::string_view k, double v) {
  if (!on_) return *this;
  key(k);
  fmt::format_to(std::back_inserter(buf_), "{:.6g}", v);
  return *this;
}

line& line::kv(std::string_view k, bool v) {
  if (!on_) return *this;
  key(k);
  buf_.append(std::string_view(v ? "true" : "false"));
  return *this;
}

}  // namespace spool::log
