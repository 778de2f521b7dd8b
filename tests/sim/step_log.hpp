#pragma once
// The last lines of a simulation run, printed when an invariant breaks.
#include <cstddef>
#include <deque>
#include <string>

#include <fmt/format.h>

#include "jobs/job.hpp"

namespace spool::sim {

class step_log {
 public:
  step_log(jobs::time_point start, std::size_t keep) : start_(start), keep_(keep) {}

  // One line stamped with the simulated time since the start of the run.
  void line(jobs::time_point now, const std::string& text) {
    lines_.push_back(fmt::format("[step {:>5} t={:>9.3f}s] {}", step_, seconds(now), text));
    if (lines_.size() > keep_) lines_.pop_front();
  }
  // A line that is always printed, above the tail: what the run was set up with.
  void pin(const std::string& text) { pinned_ += "  " + text + "\n"; }
  void next_step() { ++step_; }
  // Seconds since the start of the run: how times appear in the log.
  double seconds(jobs::time_point t) const {
    return std::chrono::duration<double>(t - start_).count();
  }
  std::size_t steps() const { return step_; }

  std::string tail() const {
    std::string out = pinned_;
    if (step_ > 0) out += "  ...\n";
    for (const auto& l : lines_) out += "  " + l + "\n";
    return out;
  }

 private:
  jobs::time_point start_;
  std::size_t keep_;
  std::size_t step_ = 0;
  std::deque<std::string> lines_;
  std::string pinned_;
};

}  // namespace spool::sim
