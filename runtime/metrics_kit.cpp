#include "runtime/metrics_kit.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

namespace spool::runtime {

histogram::histogram(std::span<const double> bounds)
    : bounds_(bounds), buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds.size() + 1)) {}

void histogram::observe(double seconds) {
  std::size_t i = 0;
  while (i < bounds_.size() && seconds > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<std::uint64_t>(std::max(seconds, 0.0) * 1e6), std::memory_order_relaxed);
}

std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void exposition::family(std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void exposition::series(std::string_view name, std::string_view suffix, labels l,
                        std::string_view extra_key, std::string_view extra_value) {
  out_.append(name).append(suffix);
  if (l.size() == 0 && extra_key.empty()) return;
  char sep = '{';
  for (auto& [key, value] : l) {
    fmt::format_to(std::back_inserter(out_), "{}{}=\"{}\"", sep, key, escape_label(value));
    sep = ',';
  }
  if (!extra_key.empty()) fmt::format_to(std::back_inserter(out_), "{}{}=\"{}\"", sep, extra_key, extra_value);
  out_ += '}';
}

void exposition::sample(std::string_view name, labels l, double value) {
  series(name, "", l);
  fmt::format_to(std::back_inserter(out_), " {}\n", value);
}

void exposition::sample(std::string_view name, labels l, std::uint64_t value) {
  series(name, "", l);
  fmt::format_to(std::back_inserter(out_), " {}\n", value);
}

void exposition::sample(std::string_view name, labels l, const histogram& h) {
  const auto bounds = h.bounds();
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    total += h.bucket(i);
    const std::string le = i < bounds.size() ? fmt::format("{}", bounds[i]) : "+Inf";
    series(name, "_bucket", l, "le", le);
    fmt::format_to(std::back_inserter(out_), " {}\n", total);
  }
  series(name, "_sum", l);
  fmt::format_to(std::back_inserter(out_), " {}\n", h.sum_seconds());
  series(name, "_count", l);
  fmt::format_to(std::back_inserter(out_), " {}\n", total);
}

}  // namespace spool::runtime
