#pragma once
// The store double: a decorator around the real store that injects the faults a database and a
// network produce, and tells the oracle what the real store actually did.
//
// Two kinds of failed call, both thrown as store_error like a real failure:
//  - "failed": thrown before the real store is called, so nothing was applied (every call of a
//    node fails this way during an outage: a partition, a database locked for seconds);
//  - "reply lost": the real store committed, then the caller gets an error anyway (a connection
//    that drops after COMMIT). The caller must survive not knowing that its call took effect.
// Latency is not modelled here but by the node's database thread (node.cpp), in simulated time.
#include <string>

#include "persistence/store.hpp"
#include "tests/sim/world.hpp"

namespace spool::sim {

// Told about every call the real store answered, before an injected error can hide the answer.
class store_witness {
 public:
  virtual ~store_witness() = default;
  virtual void inserted(std::span<const jobs::new_job> batch,
                        const std::vector<spool::store::insert_result>& result, time_point now) = 0;
  virtual void claimed(const std::string& queue, int limit, const std::string& worker,
                       time_point now, time_point until,
                       const std::vector<jobs::claimed_job>& result) = 0;
  virtual void completed(std::span<const jobs::completion> batch,
                         const std::vector<jobs::job_id>& stale) = 0;
  virtual void renewed(std::span<const jobs::lease_id> leases, time_point until) = 0;
  virtual void listed_expired(time_point now, int limit,
                              const std::vector<spool::store::expired_job>& result) = 0;
  // The leader's repair of pending jobs settled `settled` of them.
  virtual void settled_pending(time_point now, std::int64_t settled) = 0;
  // The real store threw without a fault being injected: nothing else touches the file, so this
  // is a bug (a statement left open, a constraint broken).
  virtual void failed_unprompted(const std::string& op, const std::string& error) = 0;
};

class faulty_store final : public spool::store::store {
 public:
  // Every call fails while the simulated clock is before `outage_until`.
  faulty_store(spool::store::store& real, world& w, store_witness& seen, std::string owner,
               const time_point& outage_until)
      : real_(real), w_(w), seen_(seen), owner_(std::move(owner)), outage_until_(outage_until) {}

  int migrate() override { return real_.migrate(); }
  void ping() override { real_.ping(); }
  spool::store::insert_and_claim_result insert_and_claim(
      std::span<const jobs::new_job> batch, time_point now,
      std::span<const spool::store::claim_request> claims) override;
  spool::store::round_result complete_and_claim(std::span<const jobs::completion> done,
                                                const spool::store::claim_request& next) override;
  void renew(std::span<const jobs::lease_id> leases, time_point until) override;
  std::vector<spool::store::expired_job> expired(time_point now, int limit) override;
  void record_progress(std::span<const jobs::progress_update> updates) override {
    real_.record_progress(updates);
  }
  std::vector<jobs::parent_result> parent_results(jobs::job_id child) override {
    return real_.parent_results(child);
  }
  std::int64_t settle_pending(time_point now, int limit) override;
  std::optional<time_point> next_due(const std::string& queue, time_point now) override {
    return real_.next_due(queue, now);
  }
  std::vector<jobs::job_id> cancel_requests() override { return real_.cancel_requests(); }

  std::optional<jobs::job> get(jobs::job_id id, time_point now) override {
    return real_.get(id, now);
  }
  std::vector<jobs::job> list(const spool::store::list_filter& f, time_point now) override {
    return real_.list(f, now);
  }
  spool::store::stats count(time_point now) override { return real_.count(now); }
  spool::store::cancel_result cancel(jobs::job_id id, time_point now) override {
    return real_.cancel(id, now);
  }
  spool::store::retry_result retry_now(jobs::job_id id, time_point now) override {
    return real_.retry_now(id, now);
  }
  std::int64_t requeue_dead(const spool::store::dead_filter& which, time_point now) override {
    return real_.requeue_dead(which, now);
  }
  std::int64_t purge_dead(const spool::store::dead_filter& which) override {
    return real_.purge_dead(which);
  }
  std::int64_t prune(const spool::store::prune_request& which) override {
    return real_.prune(which);
  }
  // Leadership, the node registry and notifications are not simulated: passed through.
  bool lead(const std::string& node, time_point now, jobs::duration ttl) override {
    return real_.lead(node, now, ttl);
  }
  void resign(const std::string& node) override { real_.resign(node); }
  void heartbeat(const spool::store::node_info& n, time_point now) override { real_.heartbeat(n, now); }
  void forget_node(const std::string& id) override { real_.forget_node(id); }
  std::int64_t forget_nodes_before(time_point before) override {
    return real_.forget_nodes_before(before);
  }
  std::vector<spool::store::node_info> nodes(time_point now) override { return real_.nodes(now); }
  // The simulated nodes run no periodic schedules: these only pass through.
  std::optional<spool::store::insert_result> enqueue_periodic(const std::string& name, time_point tick,
                                                              const jobs::new_job& job,
                                                              time_point now) override {
    return real_.enqueue_periodic(name, tick, job, now);
  }
  std::vector<spool::store::periodic_row> periodic_rows() override { return real_.periodic_rows(); }
  std::int64_t forget_periodic(std::span<const std::string> keep) override {
    return real_.forget_periodic(keep);
  }
  // Queue pause is not simulated: passed through.
  void set_paused(const std::string& queue, bool paused, time_point now) override {
    real_.set_paused(queue, paused, now);
  }
  std::vector<spool::store::paused_queue> paused_queues() override { return real_.paused_queues(); }
  std::vector<spool::store::limit_use> limit_usage(std::span<const spool::jobs::concurrency_limit> l,
                                                   time_point now) override {
    return real_.limit_usage(l, now);
  }
  void notify(const std::string& payload) override { real_.notify(payload); }

 private:
  // Runs `call` on the real store unless a failure is injected first; `report` tells the witness
  // what it returned; then, for a write, the reply may be lost.
  template <class Call, class Report>
  auto faulty(const char* op, bool write, Call&& call, Report&& report);

  spool::store::store& real_;
  world& w_;
  store_witness& seen_;
  std::string owner_;
  const time_point& outage_until_;
};

}  // namespace spool::sim
