#pragma once
// Runs the blocking store on its own thread and hands results back to the awaiting coroutine on
// the coroutine's own executor. Enqueues are group-committed: every insert that arrives while the
// thread is busy joins the next transaction.
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <functional>
#include <memory>
#include <thread>
#include <type_traits>
#include <variant>
#include <vector>

#include "persistence/store.hpp"

namespace spool::store {

class db_executor {
 public:
  using opener = std::function<std::unique_ptr<store>()>;

  // Opens the store on the db thread; throws store_error if that fails.
  explicit db_executor(opener open);
  ~db_executor();
  db_executor(const db_executor&) = delete;
  db_executor& operator=(const db_executor&) = delete;

  // Runs f(store&) on the db thread; the caller resumes on its own executor with the result
  // (std::monostate for void), or with the exception f threw.
  template <class F>
  auto run(F f);

  // Durable enqueue: completes after the transaction holding these jobs committed.
  boost::asio::awaitable<std::vector<insert_result>> insert(std::vector<jobs::new_job> batch);

 private:
  // Delivers the result on the caller's executor.
  using deliver_fn = std::function<void(std::exception_ptr, std::vector<insert_result>)>;
  struct pending_insert {
    std::vector<jobs::new_job> jobs;
    deliver_fn deliver;
  };
  void flush_inserts();  // db thread only

  boost::asio::io_context ctx_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<store> store_;
  std::vector<pending_insert> pending_;  // db thread only
  bool flush_posted_ = false;            // db thread only
  std::thread thread_;
};

namespace detail {
// Hands a result to a completion handler on the handler's own executor.
template <class Handler, class... Args>
void complete_on_own_executor(Handler handler, Args... args) {
  auto ex = boost::asio::get_associated_executor(handler);
  boost::asio::post(ex, [handler = std::move(handler), ... args = std::move(args)]() mutable {
    std::move(handler)(std::move(args)...);
  });
}
}  // namespace detail

template <class F>
auto db_executor::run(F f) {
  using R = std::invoke_result_t<F, store&>;
  using value = std::conditional_t<std::is_void_v<R>, std::monostate, R>;
  // Not a coroutine on purpose: GCC 12 mis-copies lambdas passed by value into coroutine frames.
  auto init = [this, f = std::move(f)](auto handler) mutable {
    auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
    boost::asio::post(ctx_, [this, f = std::move(f), handler = std::move(handler),
                             work = std::move(work)]() mutable {
      std::exception_ptr error;
      value result{};
      try {
        if constexpr (std::is_void_v<R>)
          f(*store_);
        else
          result = f(*store_);
      } catch (...) {
        error = std::current_exception();
      }
      detail::complete_on_own_executor(std::move(handler), error, std::move(result));
    });
  };
  return boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                     void(std::exception_ptr, value)>(std::move(init),
                                                                      boost::asio::use_awaitable);
}

}  // namespace spool::store
