#pragma once
// The simulated clock: a queue of events run one at a time in (time, insertion) order. Time only
// moves when the next event is taken, so a run depends on nothing but the events scheduled.
#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <vector>

#include "jobs/job.hpp"

namespace spool::sim {

using jobs::duration;
using jobs::time_point;

class event_queue {
 public:
  using action = std::function<void()>;

  explicit event_queue(time_point start) : now_(start) {}

  time_point now() const { return now_; }
  bool empty() const { return events_.empty(); }
  time_point next_time() const { return events_.top().at; }

  void at(time_point when, action run) {
    events_.push({std::max(when, now_), seq_++, std::move(run)});
  }
  void after(duration d, action run) { at(now_ + d, std::move(run)); }

  // Takes the earliest event, moves the clock to its time and runs it.
  void step() {
    event e = events_.top();
    events_.pop();
    now_ = e.at;
    e.run();
  }

 private:
  struct event {
    time_point at;
    std::uint64_t seq = 0;  // ties run in the order they were scheduled
    action run;
  };
  struct later {
    bool operator()(const event& a, const event& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };
  std::priority_queue<event, std::vector<event>, later> events_;
  time_point now_;
  std::uint64_t seq_ = 0;
};

}  // namespace spool::sim
