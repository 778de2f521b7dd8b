#include "runtime/producer.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <unordered_set>

#include "jobs/json.hpp"
#include "jobs/lifecycle.hpp"
#include "runtime/completion_batch.hpp"
#include "runtime/job_executor.hpp"
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

double ms_since(steady::time_point t) {
  return std::chrono::duration<double, std::milli>(steady::now() - t).count();
}

steady::time_point steady_at(jobs::time_point t) {
  // Capped before it becomes steady_clock's nanoseconds: a time more than 292 years ahead would
  // overflow them (and the poll wakes the producer long before).
  const auto ahead = std::clamp<jobs::duration>(t - jobs::now(), jobs::duration::zero(), 24h);
  return steady::now() + std::chrono::duration_cast<steady::duration>(ahead);
}

void log_transition(const jobs::claimed_job& j, const jobs::outcome& result,
                    const jobs::transition& t, double ms) {
  using to = jobs::transition::to;
  switch (t.next) {
    case to::completed:
      log::info("job_succeeded").kv("job_id", j.id).kv("kind", j.kind).kv("queue", j.queue)
          .kv("attempt", j.attempt).kv("duration_ms", ms);
      break;
    case to::retry:
      log::warn("job_failed").kv("job_id", j.id).kv("kind", j.kind).kv("queue", j.queue)
          .kv("attempt", j.attempt).kv("error", t.error ? t.error->message : "")
          .kv("next_run_at", jobs::to_rfc3339(t.run_at));
      break;
    case to::dead:
      log::error("job_dead_lettered").kv("job_id", j.id).kv("kind", j.kind).kv("queue", j.queue)
          .kv("attempt", j.attempt).kv("error", t.note);
      break;
    case to::cancelled:
      log::info("job_cancelled").kv("job_id", j.id).kv("kind", j.kind).kv("queue", j.queue)
          .kv("attempt", j.attempt).kv("reason", t.note);
      break;
    case to::requeue:
      log::info(result.kind == jobs::outcome::type::interrupted ? "job_interrupted" : "job_snoozed")
          .kv("job_id", j.id).kv("kind", j.kind).kv("queue", j.queue).kv("attempt", j.attempt)
          .kv("next_run_at", jobs::to_rfc3339(t.run_at));
      break;
  }
}

void record(job_series& s, metrics& m, const jobs::outcome& result, const jobs::transition& t,
            double seconds) {
  using to = jobs::transition::to;
  s.duration.observe(seconds);
  const auto second = std::chrono::duration_cast<std::chrono::seconds>(t.at.time_since_epoch()).count();
  switch (t.next) {
    case to::completed: s.succeeded++; m.rates.add(second, false); break;
    case to::retry: s.failed++; m.rates.add(second, true); break;
    case to::dead: s.dead++; m.rates.add(second, true); break;
    case to::cancelled: s.cancelled++; break;
    case to::requeue:
      (result.kind == jobs::outcome::type::interrupted ? s.interrupted : s.snoozed)++;
      break;
  }
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
          .handlers = handlers_,
          .buffered = static_cast<int>(buffer_.size()),
          .reserved = reserved_,
          .oldest_buffered = oldest_buffered_,
          .claiming = !stopping_ && !paused_,
          .may_have_work = may_have_work_,
          .wanted_since = wanted_since_};
}

bool producer::done() const {
  return stopping_ && rounds_ == 0 && !standing_ && buffer_.empty() &&
         (handlers_ == 0 || abandoning_);
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
  if (!result.claimed.empty()) {
    core_.leases.add(result.claimed.front().lease, static_cast<int>(result.claimed.size()));
    for (auto& j : result.claimed) start(std::move(j));
    launch_started();
  }
}

void producer::start(jobs::claimed_job job) {
  const auto& k = kind(job.kind);
  std::size_t index;
  if (free_slots_.empty()) {
    index = slots_.size();
    // Slots take the queue's strands in turn.
    slots_.push_back(std::make_unique<slot>(index, job_strands_[index % job_strands_.size()], core_.dog));
  } else {
    index = free_slots_.back();
    free_slots_.pop_back();
  }
  auto& s = *slots_[index];
  s.job = std::move(job);
  s.kind = &k;
  s.serial = ++serial_;
  s.busy = true;
  s.started = steady::now();
  s.reason = 0;
  s.site.job.store(s.job.id, std::memory_order_relaxed);
  ++handlers_;
  ++running_count_;
  ++core_.in_flight;

  // Entries of attempts that ended stay in the heap until their time comes; drop them when they
  // pile up (amortised: at most one pass per `handlers_ + 64` starts).
  if (deadlines_.size() > 2 * static_cast<std::size_t>(handlers_) + 64) {
    std::erase_if(deadlines_, [this](const deadline& d) {
      return !slots_[d.slot]->busy || slots_[d.slot]->serial != d.serial;
    });
    std::make_heap(deadlines_.begin(), deadlines_.end(), std::greater<>{});
  }
  const auto deadline_at = s.started + std::chrono::duration_cast<steady::duration>(k.options.timeout);
  const bool earliest = deadlines_.empty() || deadline_at < deadlines_.front().at;
  deadlines_.push_back({deadline_at, index, s.serial});
  std::push_heap(deadlines_.begin(), deadlines_.end(), std::greater<>{});
  if (earliest) deadline_timer_.cancel();

  const auto& j = s.job;
  const double wait_ms = std::max(0.0, std::chrono::duration<double, std::milli>(jobs::now() - j.run_at).count());
  k.series->wait.observe(wait_ms / 1000);
  log::info("job_started").kv("job_id", j.id).kv("kind", j.kind).kv("queue", queue_)
      .kv("attempt", j.attempt).kv("wait_ms", wait_ms);
  to_launch_.push_back(&s);
}

void producer::launch_started() {
  // One post per strand, not per attempt: a round's attempts start in one go on each strand.
  std::map<const job_strand*, std::vector<slot*>> by_strand;
  for (auto* s : to_launch_) by_strand[s->site.strand].push_back(s);
  to_launch_.clear();
  for (auto& [strand, slots] : by_strand)
    asio::post(strand->never, [this, slots = std::move(slots)] {
      for (auto* s : slots) launch(*s, s->serial);
    });
}

void producer::launch(slot& s, std::uint64_t serial) {
  s.running_serial = serial;
  if (auto refused = cannot_start(s.job, s.kind->entry, s.payload)) {
    finish(s, std::move(*refused));
    return;
  }
  s.context.emplace(s.job, s.payload.get_object(), job_log_, core_.enqueue_for_jobs);
  boost::asio::awaitable<jobs::outcome> handler;
  try {
    handler = s.kind->entry->run(*s.context);
  } catch (...) {  // a handler that is not a coroutine may throw before it returns one
    finish(s, outcome_of(std::current_exception()));
    return;
  }
  // Spawned from the slot's own strand, so the handler starts here and now, without a post.
  asio::co_spawn(job_executor(s.site), std::move(handler),
                 asio::bind_cancellation_slot(
                     s.signal.slot(), [this, &s](std::exception_ptr error, jobs::outcome result) {
                       finish(s, error ? outcome_of(error) : std::move(result));
                     }));
}

void producer::finish(slot& s, jobs::outcome result) {
  // On the attempt's strand: decide, log and count here, in parallel with other attempts.
  s.running_serial = 0;
  s.context.reset();
  const auto& j = s.job;
  const auto& options = s.kind->options;
  result = settle(std::move(result), static_cast<cancel_reason>(s.reason.load()), options.timeout);
  auto t = jobs::decide(result, j.attempt, j.max_attempts, options.retry, jobs::now(), thread_rng());
  const double ms = ms_since(s.started);
  log_transition(j, result, t, ms);
  record(*s.kind->series, core_.stats, result, t, ms / 1000);
  // Onto the producer's stack of ended attempts; the first one onto an empty stack posts the
  // producer to collect them all, so a burst of endings costs one post.
  auto* e = new ended_attempt{&s, jobs::completion{j.id, j.lease, std::move(t)}};
  auto* head = ended_.load(std::memory_order_relaxed);
  do {
    e->next = head;
  } while (!ended_.compare_exchange_weak(head, e, std::memory_order_release, std::memory_order_relaxed));
  if (!head) asio::post(strand_, [this] { collect_ended(); });
}

void producer::collect_ended() {
  std::vector<std::unique_ptr<ended_attempt>> in_order;  // the stack holds the newest first
  for (auto* e = ended_.exchange(nullptr, std::memory_order_acquire); e; e = e->next)
    in_order.emplace_back(e);
  for (auto it = in_order.rbegin(); it != in_order.rend(); ++it)
    ended(*(*it)->from, std::move((*it)->completion));
}

void producer::ended(slot& s, jobs::completion c) {
  s.busy = false;
  free_slots_.push_back(s.index);
  --handlers_;
  --running_count_;
  --core_.in_flight;
  if (buffer_.empty()) oldest_buffered_ = steady::now();
  buffer_.push_back({std::move(c), s.kind});
  poke();
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
  if (standing_ || handlers_ > 0 || !buffer_.empty() || rounds_ > 0 || may_have_work_ ||
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
                      if (!jobs.empty()) {
                        core_.leases.add(jobs.front().lease, static_cast<int>(jobs.size()));
                        for (auto& j : jobs) start(std::move(j));
                        launch_started();
                      }
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

asio::awaitable<void> producer::watch_deadlines() {
  while (!finished_) {
    deadline_timer_.expires_at(deadlines_.empty() ? steady::now() + 1s : deadlines_.front().at);
    co_await deadline_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    const auto now = steady::now();
    while (!deadlines_.empty() && deadlines_.front().at <= now) {
      std::pop_heap(deadlines_.begin(), deadlines_.end(), std::greater<>{});
      const auto d = deadlines_.back();
      deadlines_.pop_back();
      if (auto& s = *slots_[d.slot]; s.busy && s.serial == d.serial) cancel_running(s, cancel_reason::timeout);
    }
  }
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

void producer::cancel_running(slot& s, cancel_reason why) {
  int none = 0;
  s.reason.compare_exchange_strong(none, static_cast<int>(why));
  // co_spawn's cancellation handler emits into the coroutine's state directly: only on its
  // strand, and only while that attempt's handler still runs (the slot may have moved on).
  asio::post(s.site.strand->never, [&s, serial = s.serial] {
    if (s.running_serial == serial) s.signal.emit(asio::cancellation_type::terminal);
  });
}

void producer::cancel(jobs::job_id id, cancel_reason why) {
  asio::post(strand_, [this, id, why] {
    for (auto& s : slots_)
      if (s->busy && s->job.id == id) cancel_running(*s, why);
  });
}

void producer::cancel_all(cancel_reason why) {
  asio::post(strand_, [this, why] {
    for (auto& s : slots_)
      if (s->busy) cancel_running(*s, why);
  });
}

}  // namespace spool::runtime
