// The producer's rounds: when it claims and commits, and how it sleeps and wakes (its attempts
// are in producer_attempts.cpp).
#include "runtime/producer.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <unordered_set>

#include "jobs/lifecycle.hpp"
#include "runtime/completion_batch.hpp"
#include "runtime/log.hpp"
#include "runtime/spawn.hpp"

namespace spool::runtime {
namespace asio = boost::asio;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// Rounds of one producer in flight at once (see round_policy.hpp). On one connection (SQLite) a
// second round would only wait behind the first, and make both smaller.
int rounds_allowed(const core& c) { return std::min(2, c.db.connections()); }

// Attempts of one queue share this many strands, taken in turn: a strand per attempt costs an
// allocation and a lock each time, and more strands than io threads buy little else.
constexpr std::size_t strands_per_queue = 16;

steady::time_point steady_at(jobs::time_point t) {
  // Capped before it becomes steady_clock's nanoseconds: a time more than 292 years ahead would
  // overflow them (and the poll wakes the producer long before).
  const auto ahead = std::clamp<jobs::duration>(t - jobs::now(), jobs::duration::zero(), 24h);
  return steady::now() + std::chrono::duration_cast<steady::duration>(ahead);
}

}  // namespace

producer::producer(core& c, std::string queue, int concurrency)
    : core_(c),
      queue_(std::move(queue)),
      concurrency_(concurrency),
      strand_(asio::make_strand(c.executor)),
      timer_(strand_),
      deadline_timer_(strand_),
      job_log_([](const jobs::claimed_job& j, std::string_view msg) {
        log::info("job_log").kv("job_id", j.id).kv("kind", j.kind).kv("attempt", j.attempt)
            .kv("message", msg);
      }),
      round_timing_(c.stats.db_operation("round")) {
  const auto n = std::min<std::size_t>(strands_per_queue, static_cast<std::size_t>(concurrency));
  for (std::size_t i = 0; i < n; ++i) job_strands_.emplace_back(asio::make_strand(c.executor));
}

const producer::kind_info& producer::kind(const std::string& name) {
  auto it = kinds_.find(name);
  if (it == kinds_.end()) {
    kind_info k{{}, core_.registry.find(name), core_.options_for(name), &core_.stats.series(queue_, name)};
    it = kinds_.emplace(name, k).first;
    it->second.name = it->first;
  }
  return it->second;
}

round_state producer::state() const {
  return {.concurrency = concurrency_,
          .handlers = running_count_,
          .buffered = static_cast<int>(buffer_.size()),
          .reserved = reserved_,
          .oldest_buffered = oldest_buffered_,
          .claiming = !stopping_ && !paused_,
          .may_have_work = may_have_work_,
          .wanted_since = wanted_since_};
}

bool producer::done() const {
  return stopping_ && rounds_ == 0 && !standing_ && buffer_.empty() &&
         (running_count_ == 0 || abandoning_);
}

asio::awaitable<void> producer::run() {
  const auto poll = std::chrono::duration_cast<steady::duration>(core_.poll_interval());
  auto next_poll = steady::now() + poll;
  while (!done()) {
    const auto now = steady::now();
    if (now >= next_poll) {  // jobs written by other processes
      next_poll = now + poll;
      wake_for_work();
      refresh_due_ = true;
    }
    if (next_due_ && *next_due_ <= jobs::now()) {
      next_due_.reset();
      refresh_due_ = true;
      wake_for_work();
    }
    auto wake_at = next_poll;
    if (rounds_ == rounds_allowed(core_)) {
      // A round's end wakes this loop.
    } else if (now >= backoff_until_) {
      const auto plan = plan_round(state(), now);
      if (plan.send) {
        send_round(plan.claim);
        continue;
      }
      if (plan.recheck_at) wake_at = std::min(wake_at, *plan.recheck_at);
      stand_if_idle();
    } else {
      wake_at = std::min(wake_at, backoff_until_);
    }
    if (next_due_ && !stopping_) wake_at = std::min(wake_at, steady_at(*next_due_));
    sleeping_ = true;
    sleep_until_ = wake_at;
    timer_.expires_at(wake_at);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    sleeping_ = false;
  }
  finished_ = true;
  deadline_timer_.cancel();  // lets the deadline watcher return
}

void producer::send_round(int claim) {
  ++rounds_;
  reserved_ += claim;
  asio::co_spawn(strand_, round(claim), [this, claim](std::exception_ptr e) {
    log_escape("producer round")(e);
    --rounds_;
    reserved_ -= claim;
    if (sleeping_) timer_.cancel();  // run() plans the next round
  });
}

asio::awaitable<void> producer::round(int claim) {
  auto batch = take_batch(
      buffer_, [](const finished_attempt& f) { return f.completion.id; }, max_round_jobs);
  if (!buffer_.empty()) oldest_buffered_ = steady::now();
  std::vector<jobs::completion> done;
  done.reserve(batch.size());
  for (auto& f : batch) done.push_back(std::move(f.completion));
  const auto now = jobs::now();
  const store::claim_request request{.queue = queue_,
                                     .limit = claim,
                                     .worker = core_.worker_id,
                                     .now = now,
                                     .lease_until = now + core_.lease(),
                                     .want_next_due = refresh_due_ && !refreshing_due_ && claim > 0};
  if (request.want_next_due) refreshing_due_ = true;
  const auto wakes_before = wake_seq_;
  const auto claim_round = claim > 0 ? ++claim_rounds_ : 0;

  store::round_result result;
  bool ok = false;
  try {
    // Named, not a temporary inside co_await: GCC 12 mis-moves such lambdas' captures. The
    // references stay valid: this frame waits for the call.
    auto call = [&done, &request, &timing = round_timing_](store::store& s) {
      const auto started = steady::now();
      auto r = s.complete_and_claim(done, request);
      timing.observe(std::chrono::duration<double>(steady::now() - started).count());
      return r;
    };
    result = co_await core_.db.run(std::move(call));
    ok = true;
  } catch (const std::exception& e) {
    log::error(claim > 0 ? "claim_failed" : "completion_flush_failed").kv("queue", queue_)
        .kv("jobs", done.size()).kv("error", e.what())
        .kv("retry_in_ms", static_cast<std::int64_t>(backoff_.count()));
  }
  if (request.want_next_due) refreshing_due_ = false;

  if (!ok) {  // a locked or unreachable database: keep the outcomes, back off, try again
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].completion = std::move(done[i]);
    if (buffer_.empty()) oldest_buffered_ = steady::now();
    buffer_.insert(buffer_.begin(), std::make_move_iterator(batch.begin()),
                   std::make_move_iterator(batch.end()));
    backoff_until_ = steady::now() + backoff_;
    backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(5000));
    co_return;
  }
  backoff_ = 50ms;

  if (!done.empty()) {
    const std::unordered_set<jobs::job_id> rejected(result.stale.begin(), result.stale.end());
    std::map<jobs::lease_id, int> released;
    for (std::size_t i = 0; i < done.size(); ++i) {
      const auto& c = done[i];
      ++released[c.lease];
      if (rejected.count(c.id)) {
        core_.stats.rejected_completions++;
        log::warn("completion_rejected").kv("job_id", c.id).kv("kind", batch[i].kind->name)
            .kv("reason", "lease lost: another worker took the job over");
      } else if (c.change.next == jobs::transition::to::retry ||
                 c.change.next == jobs::transition::to::requeue) {
        note_due(c.change.run_at);
      }
    }
    core_.leases.release(released);
    core_.committed.fetch_add(done.size() - rejected.size(), std::memory_order_relaxed);
  }
  if (request.want_next_due) {
    refresh_due_ = false;
    if (result.next_due && (!next_due_ || *result.next_due < *next_due_)) next_due_ = result.next_due;
  }
  if (claim > 0) {
    // A claim that came back short says the queue is empty, unless a later claim or an enqueue
    // signal since says otherwise.
    if (static_cast<int>(result.claimed.size()) == claim)
      wake_for_work();
    else if (claim_round == claim_rounds_ && wake_seq_ == wakes_before)
      may_have_work_ = false;
  }
  start_claimed(std::move(result.claimed));
}

void producer::poke() {
  if (!sleeping_) return;  // run() is planning already
  const auto now = steady::now();
  bool sooner = done();
  if (!sooner && rounds_ < rounds_allowed(core_) && now >= backoff_until_) {
    const auto plan = plan_round(state(), now);
    sooner = plan.send || (plan.recheck_at && *plan.recheck_at < sleep_until_);
  }
  if (!sooner && next_due_ && !stopping_) sooner = steady_at(*next_due_) < sleep_until_;
  if (sooner) timer_.cancel();
}

void producer::wake_for_work() {
  ++wake_seq_;
  withdraw();
  if (!may_have_work_) {
    may_have_work_ = true;
    wanted_since_ = steady::now();
  }
}

void producer::stand_if_idle() {
  if (standing_ || running_count_ > 0 || !buffer_.empty() || rounds_ > 0 || may_have_work_ ||
      stopping_ || paused_)
    return;
  standing_ = true;
  stand_limit_ = std::min(concurrency_, max_round_jobs);
  reserved_ += stand_limit_;
  core_.db.stand({.queue = queue_,
                  .limit = stand_limit_,
                  .worker = core_.worker_id,
                  .lease = core_.lease(),
                  .allowed = [this] { return !paused_ && !stop_requested_; },
                  .claimed = [this](std::vector<jobs::claimed_job> jobs) {
                    asio::post(strand_, [this, jobs = std::move(jobs)]() mutable {
                      const bool full = static_cast<int>(jobs.size()) == stand_limit_;
                      stand_resolved();
                      if (full) wake_for_work();  // there may be more
                      start_claimed(std::move(jobs));
                      poke();
                    });
                  }});
}

void producer::withdraw() {
  if (!standing_ || withdrawing_) return;
  withdrawing_ = true;
  core_.db.withdraw(queue_, [this] {
    asio::post(strand_, [this] {
      stand_resolved();
      poke();
    });
  });
}

void producer::stand_resolved() {
  standing_ = withdrawing_ = false;
  reserved_ -= stand_limit_;
  stand_limit_ = 0;
}

void producer::note_due(jobs::time_point due) {
  if (due <= jobs::now())
    wake_for_work();
  else if (!next_due_ || due < *next_due_)
    next_due_ = due;
}

void producer::notify(jobs::time_point due) {
  asio::post(strand_, [this, due] {
    note_due(due);
    poke();
  });
}

void producer::pause(bool paused) {
  paused_ = paused;
  if (paused)
    asio::post(strand_, [this] { withdraw(); });
  else
    notify(jobs::now());
}

void producer::stop() {
  stop_requested_ = true;  // a standing claim is not made from now on
  asio::post(strand_, [this] {
    stopping_ = true;
    withdraw();
    if (sleeping_) timer_.cancel();
  });
}

void producer::abandon() {
  asio::post(strand_, [this] {
    abandoning_ = true;
    if (sleeping_) timer_.cancel();
  });
}

}  // namespace spool::runtime
