#pragma once
// Runs the blocking store on its own threads, one connection each, and hands results back to the
// awaiting coroutine on the coroutine's own executor. A call goes to the least busy connection.
// Enqueues are group-committed on the first connection: every insert that arrives while it is
// busy joins the next transaction.
#include <boost/asio/awaitable.hpp>
#include <exception>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <memory>
#include <vector>

#include "persistence/serial_executor.hpp"
#include "persistence/store.hpp"

namespace spool::store {

class db_executor {
 public:
  using opener = std::function<std::unique_ptr<store>()>;

  // Opens `connections` stores, each on its own thread; throws store_error if one fails.
  explicit db_executor(const opener& open, int connections = 1);

  // Runs f(store&) on a db thread; the caller resumes on its own executor with the result
  // (std::monostate for void), or with the exception f threw.
  template <class F>
  auto run(F f) {
    return least_busy().run(std::move(f));
  }

  int connections() const { return static_cast<int>(pool_.size()); }

  // Runs on the first connection's thread right after a commit, before the callers resume: it
  // wakes the producers of the jobs' queues without waiting for the caller's thread. `served`:
  // queues whose standing claim took every job due at the given time in the same transaction
  // (nothing to wake for those).
  using served_queues = std::map<std::string, time_point, std::less<>>;
  using committed_fn = std::function<void(std::span<const jobs::new_job>,
                                          std::span<const insert_result>, const served_queues&)>;

  // A claim that a producer idling on `queue` leaves here: the next enqueue transaction that
  // commits a due job of the queue makes it too (store::insert_and_claim), so the job starts
  // without a round of its own. `claimed` gets the jobs on the first connection's thread. One per
  // queue; `withdraw` takes it back unless it was made already, and only then runs `withdrawn`
  // (on that thread). Calls keep their order: a withdraw never reaches a later stand. `allowed`
  // is asked at the moment of the claim: a queue paused or stopped since (any thread, at once)
  // claims nothing even before its withdraw arrives.
  struct standing_claim {
    std::string queue;
    int limit = 0;
    std::string worker;
    jobs::duration lease{};
    std::span<const jobs::concurrency_limit> limits = {};  // as claim_request::limits
    std::function<bool()> allowed;
    std::function<void(std::vector<jobs::claimed_job>)> claimed;
  };
  void stand(standing_claim claim);
  void withdraw(std::string queue, std::function<void()> withdrawn);

  // Durable enqueue: completes after the transaction holding these jobs committed.
  boost::asio::awaitable<std::vector<insert_result>> insert(std::vector<jobs::new_job> batch,
                                                            committed_fn on_commit = {});

 private:
  // Delivers the result on the caller's executor.
  using deliver_fn = std::function<void(std::exception_ptr, std::vector<insert_result>)>;
  struct pending_insert {
    std::vector<jobs::new_job> jobs;
    deliver_fn deliver;
    committed_fn on_commit;
  };
  void flush_inserts(store& s);  // first connection's thread only
  serial_executor<store>& least_busy();

  std::vector<pending_insert> pending_;  // first connection's thread only
  std::map<std::string, standing_claim, std::less<>> stands_;  // first connection's thread only
  bool flush_posted_ = false;            // first connection's thread only
  // Last: their threads stop before the members above go.
  std::vector<std::unique_ptr<serial_executor<store>>> pool_;
};

}  // namespace spool::store
