#include "runtime/watchdog.hpp"

#include "runtime/log.hpp"

namespace spool::runtime {

namespace {

std::atomic<std::uint64_t> next_generation{1};
thread_local int depth = 0;  // busy marks alive on this thread (nested ones are no-ops)

std::int64_t ns(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

watchdog::watchdog(std::atomic<std::uint64_t>& blocked, std::chrono::milliseconds threshold)
    : blocked_(blocked),
      threshold_(threshold),
      generation_(next_generation++),
      thread_([this] { run(); }) {}

watchdog::~watchdog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

watchdog::busy::busy(watchdog& dog, jobs::job_id id) {
  if (depth++ > 0) return;
  slot_ = dog.this_thread_slot();
  const auto seq = slot_->seq.load(std::memory_order_relaxed);
  // The previous step's end (an even seq) must be visible before this step's fields are.
  std::atomic_thread_fence(std::memory_order_release);
  slot_->job.store(id, std::memory_order_relaxed);
  slot_->since_ns.store(ns(std::chrono::steady_clock::now()), std::memory_order_relaxed);
  slot_->seq.store(seq + 1, std::memory_order_release);
}

watchdog::busy::~busy() {
  if (--depth > 0 || !slot_) return;
  slot_->seq.store(slot_->seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

watchdog::slot* watchdog::this_thread_slot() {
  struct cached {
    std::uint64_t generation = 0;
    slot* s = nullptr;
  };
  thread_local cached mine;
  if (mine.generation == generation_) return mine.s;
  std::lock_guard lock(mutex_);
  auto [it, added] = slots_.try_emplace(std::this_thread::get_id());
  if (added) it->second.index = static_cast<int>(slots_.size());
  mine = {generation_, &it->second};
  return mine.s;
}

void watchdog::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, threshold_ / 4);
    if (!stopping_) scan(std::chrono::steady_clock::now());
  }
}

void watchdog::scan(std::chrono::steady_clock::time_point now) {
  for (auto& [_, s] : slots_) {
    const auto before = s.seq.load(std::memory_order_acquire);
    const auto job = s.job.load(std::memory_order_relaxed);
    const auto since = s.since_ns.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (before % 2 == 0 || s.seq.load(std::memory_order_relaxed) != before) continue;
    const auto held = std::chrono::nanoseconds(ns(now) - since);
    if (held < threshold_ || since == s.reported_since) continue;
    s.reported_since = since;
    blocked_.fetch_add(1, std::memory_order_relaxed);
    log::warn("io_thread_blocked")
        .kv("job_id", job)
        .kv("blocked_ms", std::chrono::duration<double, std::milli>(held).count())
        .kv("thread", s.index)
        .kv("note", "the handler has not awaited since; other coroutines on this thread wait");
  }
}

}  // namespace spool::runtime
