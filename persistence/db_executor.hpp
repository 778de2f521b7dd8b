#pragma once
// Runs the blocking store on its own thread and hands results back to the awaiting coroutine on
// the coroutine's own executor. Enqueues are group-committed: every insert that arrives while the
// thread is busy joins the next transaction.
#include <boost/asio/awaitable.hpp>
#include <exception>
#include <functional>
#include <memory>
#include <vector>

#include "persistence/serial_executor.hpp"
#include "persistence/store.hpp"

namespace spool::store {

class db_executor {
 public:
  using opener = std::function<std::unique_ptr<store>()>;

  // Opens the store on the db thread; throws store_error if that fails.
  explicit db_executor(opener open) : exec_(std::move(open)) {}

  // Runs f(store&) on the db thread; the caller resumes on its own executor with the result
  // (std::monostate for void), or with the exception f threw.
  template <class F>
  auto run(F f) {
    return exec_.run(std::move(f));
  }

  // Durable enqueue: completes after the transaction holding these jobs committed.
  boost::asio::awaitable<std::vector<insert_result>> insert(std::vector<jobs::new_job> batch);

 private:
  // Delivers the result on the caller's executor.
  using deliver_fn = std::function<void(std::exception_ptr, std::vector<insert_result>)>;
  struct pending_insert {
    std::vector<jobs::new_job> jobs;
    deliver_fn deliver;
  };
  void flush_inserts(store& s);  // db thread only

  std::vector<pending_insert> pending_;  // db thread only
  bool flush_posted_ = false;            // db thread only
  serial_executor<store> exec_;          // last: its thread stops before the members above go
};

}  // namespace spool::store
