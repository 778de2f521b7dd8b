#include "runtime/attempt_slots.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>

#include "jobs/json.hpp"
#include "jobs/lifecycle.hpp"
#include "runtime/log.hpp"

namespace spool::runtime {
namespace asio = boost::asio;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

double ms_since(steady::time_point t) {
  return std::chrono::duration<double, std::milli>(steady::now() - t).count();
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

// Attempts of one queue share this many strands, taken in turn: a strand per attempt costs an
// allocation and a lock each time, and more strands than io threads buy little else.
constexpr std::size_t strands_per_queue = 16;

}  // namespace

attempt_slots::attempt_slots(core& c, std::string_view queue, int concurrency,
                             const strand_type& owner, std::function<void()> ended_waiting)
    : core_(c),
      queue_(queue),
      owner_(owner),
      ended_waiting_(std::move(ended_waiting)),
      deadline_timer_(owner),
      job_log_([](const jobs::claimed_job& j, std::string_view msg) {
        log::info("job_log").kv("job_id", j.id).kv("kind", j.kind).kv("attempt", j.attempt)
            .kv("message", msg);
      }) {
  const auto n = std::min<std::size_t>(strands_per_queue, static_cast<std::size_t>(concurrency));
  for (std::size_t i = 0; i < n; ++i) job_strands_.emplace_back(asio::make_strand(c.executor));
}

attempt_slots::~attempt_slots() {
  // Ends that were never collected (the producer stopped waiting for them: abandon).
  for (auto* e = ended_.exchange(nullptr); e;) delete std::exchange(e, e->next);
}

const attempt_slots::kind_info& attempt_slots::kind(const std::string& name) {
  auto it = kinds_.find(name);
  if (it == kinds_.end()) {
    kind_info k{{}, core_.registry.find(name), core_.options_for(name), &core_.stats.series(queue_, name)};
    it = kinds_.emplace(name, k).first;
    it->second.name = it->first;
  }
  return it->second;
}

void attempt_slots::start(std::vector<jobs::claimed_job> jobs) {
  for (auto& j : jobs) start_one(std::move(j));
  // One post per strand, not per attempt: a round's attempts start in one go on each strand.
  std::map<const job_strand*, std::vector<slot*>> by_strand;
  for (auto* s : to_launch_) by_strand[s->site.strand].push_back(s);
  to_launch_.clear();
  for (auto& [strand, slots] : by_strand)
    asio::post(strand->never, [this, slots = std::move(slots)] {
      for (auto* s : slots) launch(*s, s->serial);
    });
}

void attempt_slots::start_one(jobs::claimed_job job) {
  const auto& k = kind(job.kind);
  std::size_t index;
  if (free_slots_.empty()) {
    index = slots_.size();
    // Slots take the queue's strands in turn.
    slots_.push_back(std::make_unique<slot>(index, job_strands_[index % job_strands_.size()], core_.dog));
    slots_.back()->progress = [this, s = slots_.back().get()](const jobs::claimed_job& j, double fraction,
                                                             std::string note) {
      s->reported = true;
      core_.progress.report(j, fraction, std::move(note));
    };
    slots_.back()->parents = [this](jobs::job_id id) -> asio::awaitable<std::vector<jobs::parent_result>> {
      auto read = [id](store::store& db) { return db.parent_results(id); };
      co_return co_await core_.db.run(std::move(read));
    };
    // On the attempt's strand, as finish() is, which revokes it.
    slots_.back()->issue_token = [this, s = slots_.back().get()](const jobs::claimed_job& j) {
      if (s->token.empty()) s->token = core_.tokens.issue(j);
      return s->token;
    };
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
  ++running_;
  ++core_.in_flight;

  // Entries of attempts that ended stay in the heap until their time comes; drop them when they
  // pile up (amortised: at most one pass per `running + 64` starts).
  if (deadlines_.size() > 2 * static_cast<std::size_t>(running_.load()) + 64) {
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

void attempt_slots::launch(slot& s, std::uint64_t serial) {
  s.running_serial = serial;
  if (auto refused = cannot_start(s.job, s.kind->entry, s.payload)) {
    finish(s, std::move(*refused));
    return;
  }
  s.follow_ups.clear();
  s.context.emplace(s.job, s.payload.get_object(), job_log_, s.follow_ups, &s.progress, &s.issue_token, &s.parents);
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

void attempt_slots::finish(slot& s, jobs::outcome result) {
  // On the attempt's strand: decide, log and count here, in parallel with other attempts.
  s.running_serial = 0;
  s.context.reset();
  const auto& j = s.job;
  if (s.reported.exchange(false)) core_.progress.forget(j.id);  // its running row goes with it
  if (!s.token.empty()) {
    core_.tokens.revoke(s.token);
    s.token.clear();
  }
  const auto& options = s.kind->options;
  result = settle(std::move(result), static_cast<cancel_reason>(s.reason.load()), options.timeout);
  result = jobs::check_result(std::move(result), core_.settings.result_max_bytes);
  auto t = jobs::decide(result, j.attempt, j.max_attempts, options.retry, jobs::now(), thread_rng(),
                        {j.snoozes, j.snoozed_for}, options.snoozes);
  const double ms = ms_since(s.started);
  log_transition(j, result, t, ms);
  record(*s.kind->series, core_.stats, result, t, ms / 1000);
  // Onto the stack of ended attempts; the first one onto an empty stack posts the owner to
  // collect them all, so a burst of endings costs one post.
  jobs::completion done{j.id, j.lease, std::move(t)};
  // Follow-ups go with a success only (see job_context::enqueue); a failed, snoozed or
  // cancelled attempt's are dropped here, and its next attempt enqueues them again.
  if (done.change.next == jobs::transition::to::completed) {
    done.follow_ups = std::move(s.follow_ups);
  } else if (!s.follow_ups.empty()) {
    log::debug("follow_ups_discarded").kv("job_id", j.id).kv("kind", j.kind)
        .kv("attempt", j.attempt).kv("jobs", s.follow_ups.size());
  }
  s.follow_ups.clear();
  auto* e = new ended_node{&s, std::move(done)};
  auto* head = ended_.load(std::memory_order_relaxed);
  do {
    e->next = head;
  } while (!ended_.compare_exchange_weak(head, e, std::memory_order_release, std::memory_order_relaxed));
  if (!head) asio::post(owner_, [this] { ended_waiting_(); });
}

int attempt_slots::collect_ended(std::vector<ended_attempt>& into) {
  std::vector<std::unique_ptr<ended_node>> in_order;  // the stack holds the newest first
  for (auto* e = ended_.exchange(nullptr, std::memory_order_acquire); e; e = e->next)
    in_order.emplace_back(e);
  for (auto it = in_order.rbegin(); it != in_order.rend(); ++it) {
    auto& s = *(*it)->from;
    s.busy = false;
    free_slots_.push_back(s.index);
    --running_;
    --core_.in_flight;
    into.push_back({std::move((*it)->completion), s.kind->name});
  }
  return static_cast<int>(in_order.size());
}

asio::awaitable<void> attempt_slots::watch_deadlines() {
  while (watching_) {
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

void attempt_slots::cancel_running(slot& s, cancel_reason why) {
  int none = 0;
  s.reason.compare_exchange_strong(none, static_cast<int>(why));
  // co_spawn's cancellation handler emits into the coroutine's state directly: only on its
  // strand, and only while that attempt's handler still runs (the slot may have moved on).
  asio::post(s.site.strand->never, [&s, serial = s.serial] {
    if (s.running_serial == serial) s.signal.emit(asio::cancellation_type::terminal);
  });
}

void attempt_slots::cancel(jobs::job_id id, cancel_reason why) {
  for (auto& s : slots_)
    if (s->busy && s->job.id == id) cancel_running(*s, why);
}

void attempt_slots::cancel_all(cancel_reason why) {
  for (auto& s : slots_)
    if (s->busy) cancel_running(*s, why);
}

void attempt_slots::stop_watching() {
  watching_ = false;
  deadline_timer_.cancel();
}

}  // namespace spool::runtime
