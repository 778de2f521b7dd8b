// The simulated node's services: lease keeper, rescuer, enqueue and shutdown (see node.hpp for
// what each mirrors).
#include <set>

#include <fmt/format.h>

#include "jobs/lifecycle.hpp"
#include "tests/sim/node.hpp"
#include "tests/sim/oracle.hpp"

namespace spool::sim {

using namespace std::chrono_literals;
using to = jobs::transition::to;

// ---- maintenance ---------------------------------------------------------------------------

void node::keep_leases() {  // maintenance::run_lease_keeper
  later(w_.times.lease / 3, [this] {
    const auto live = leases_->live();
    if (live.empty()) {
      keep_leases();
      return;
    }
    const auto until = w_.now() + w_.times.lease;
    call(
        "renew", [=](store::store& s) { s.renew(live, until); },
        [this](const std::string* error) {
          if (error) say("lease renewal failed: " + *error);
          keep_leases();
        });
  });
}

void node::rescuer_loop() {  // maintenance::run_rescuer (every node leads: not simulated)
  rescue([this] {
    settle_pending([this] { later(w_.times.rescue_interval, [this] { rescuer_loop(); }); });
  });
}

void node::settle_pending(std::function<void()> after) {  // maintenance::settle_pending_once
  const auto now = w_.now();
  auto settled = std::make_shared<std::int64_t>(0);
  call(
      "settle pending", [=](store::store& s) { *settled = s.settle_pending(now, 1000); },
      [=, this](const std::string* error) {
        if (error) say("settle pending failed: " + *error);
        else if (*settled > 0) notify(w_.now());
        after();
      });
}

void node::rescue(std::function<void()> after) {  // maintenance::rescue_once
  const auto now = w_.now();
  auto found = std::make_shared<std::vector<store::expired_job>>();
  call(
      "expired", [=](store::store& s) { *found = s.expired(now, 1000); },
      [=, this](const std::string* error) {
        if (error) {
          say("rescue failed: " + *error);
          after();
          return;
        }
        if (found->empty()) {
          after();
          return;
        }
        auto changes = std::make_shared<std::vector<jobs::completion>>();
        for (const auto& e : *found) {
          // The runtime's own decision for a lost worker: a failed attempt.
          const auto& kind = w_.kind(e.kind);
          const auto lost = jobs::outcome::error(std::string(jobs::worker_lost_message));
          auto t = jobs::decide(lost, e.attempt, e.max_attempts, kind.options.retry, now, w_.rng);
          w_.truth->decided(e.id, e.attempt, e.max_attempts, kind.options.retry, lost, now, t);
          changes->push_back({e.id, e.lease, std::move(t)});
        }
        auto stale = std::make_shared<std::vector<jobs::job_id>>();
        call(
            fmt::format("complete {} rescued jobs", changes->size()),
            [=](store::store& s) { *stale = s.complete(*changes); },
            [=, this](const std::string* error) {
              if (error) {
                say("rescue failed: " + *error);
              } else {
                for (const auto& c : *changes) {
                  if (std::find(stale->begin(), stale->end(), c.id) != stale->end()) continue;
                  say(fmt::format("rescued job {} (lease {}) -> {}", c.id, c.lease,
                                  to_string(c.change.next)));
                  w_.count("jobs rescued");
                  if (c.change.next != to::dead) notify(c.change.run_at);
                }
              }
              after();
            });
      });
}

// ---- enqueue and shutdown ------------------------------------------------------------------

void node::enqueue(std::vector<jobs::new_job> batch,
                   std::function<void(const std::vector<store::insert_result>&)> acked,
                   std::function<void()> failed) {
  auto jobs = std::make_shared<std::vector<jobs::new_job>>(std::move(batch));
  auto result = std::make_shared<store::insert_and_claim_result>();
  auto made = std::make_shared<int>(0);  // the standing claim's limit if this call makes it
  call(
      fmt::format("insert {} jobs", jobs->size()),
      [=, this](store::store& s) {  // db_executor::flush_inserts
        const auto now = w_.now();
        std::vector<store::claim_request> claims;
        const bool due = std::any_of(jobs->begin(), jobs->end(),
                                     [&](const jobs::new_job& j) { return j.run_at.value_or(now) <= now; });
        // An enqueue with dependencies commits alone, making no standing claim (flush_inserts).
        if (db_stand_ && due && !fsm_.stopping() && !store::any_dependencies(*jobs)) {
          claims.push_back({.queue = "default", .limit = db_stand_limit_, .worker = worker_,
                            .now = now, .lease_until = now + w_.times.lease});
          db_stand_ = false;
          *made = db_stand_limit_;
        }
        try {
          *result = s.insert_and_claim(*jobs, now, claims);
        } catch (...) {  // not made: it stands for the next transaction
          if (*made) db_stand_ = true;
          *made = 0;
          throw;
        }
      },
      [=, this](const std::string* error) {
        if (error) {
          say("enqueue failed: " + *error);
          failed();
          return;
        }
        acked(result->inserted);
        const bool served = *made && static_cast<int>(result->claimed[0].size()) < *made;
        if (*made) stand_made(result->claimed[0]);
        for (const auto& j : *jobs)
          if (!(served && j.run_at.value_or(w_.now()) <= w_.now())) notify(j.run_at.value_or(w_.now()));
      });
}

void node::shut_down() {  // runtime::stop, then the tail of runtime::run
  if (!up_ || draining_) return;
  say(fmt::format("shutdown begins with {} jobs in hand", running_.size()));
  w_.count("graceful shutdowns");
  draining_ = true;
  react(fsm_.stop());
  stage_ = stage::grace;
  later(w_.times.grace, [this] {
    if (stage_ == stage::grace) cancel_all();
  });
  progress();
}

void node::cancel_all() {
  stage_ = stage::cancelling;
  say(fmt::format("grace is over: cancels {} jobs", running_.size()));
  std::vector<key> keys;
  for (const auto& [k, _] : running_) keys.push_back(k);
  for (const auto& k : keys) cancel(k, runtime::cancel_reason::shutdown);
  later(10s, [this] {
    if (stage_ != stage::cancelling) return;
    say(fmt::format("abandons {} handlers that ignore cancellation", running_.size()));
    stage_ = stage::draining;
    fsm_.abandon();
    progress();
  });
}

void node::progress() {
  if (!draining_) return;
  if ((stage_ == stage::grace || stage_ == stage::cancelling) && running_.empty())
    stage_ = stage::draining;
  // The producer's last rounds, then the process exits (queued store calls of services are
  // abandoned).
  if (stage_ == stage::draining && fsm_.done()) {
    say("shutdown complete");
    go_down();
  }
}

}  // namespace spool::sim
