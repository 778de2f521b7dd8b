#pragma once
// The pattern for any blocking resource: one thread owns the resource (e.g. a SOCI
// session, which must never be used by two threads), runs the calls given to it one at a time,
// and hands each result back to the awaiting coroutine on the coroutine's own executor, so no
// blocking call ever runs on an io_context thread.
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>

namespace spool::store {

namespace detail {
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Hands a result to a completion handler on the handler's own executor.
template <class Handler, class... Args>
void complete_on_own_executor(Handler handler, Args... args) {
  auto ex = boost::asio::get_associated_executor(handler);
  boost::asio::post(ex, [handler = std::move(handler), ... args = std::move(args)]() mutable {
    std::move(handler)(std::move(args)...);
  });
}
}  // namespace detail

template <class Resource>
class serial_executor {
 public:
  using opener = std::function<std::unique_ptr<Resource>()>;

  // Opens the resource on its thread; rethrows what `open` threw.
  explicit serial_executor(opener open) : work_(boost::asio::make_work_guard(ctx_)) {
    std::promise<void> opened;
    auto ready = opened.get_future();
    thread_ = std::thread([this, &opened, open = std::move(open)] {
      try {
        resource_ = open();
        opened.set_value();
      } catch (...) {
        opened.set_exception(std::current_exception());
        return;
      }
      run_spinning();
      resource_.reset();  // closed on the thread that used it
    });
    try {
      ready.get();
    } catch (...) {
      thread_.join();
      throw;
    }
  }

  ~serial_executor() {
    work_.reset();
    thread_.join();
  }
  serial_executor(const serial_executor&) = delete;
  serial_executor& operator=(const serial_executor&) = delete;

  // Runs f(Resource&) on the thread; the caller resumes on its own executor with the result
  // (std::monostate for void), or with the exception f threw.
  template <class F>
  auto run(F f) {
    using R = std::invoke_result_t<F, Resource&>;
    using value = std::conditional_t<std::is_void_v<R>, std::monostate, R>;
    // Not a coroutine on purpose: GCC 12 mis-copies lambdas passed by value into coroutine frames.
    auto init = [this, f = std::move(f)](auto handler) mutable {
      auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
      ++queued_;
      boost::asio::post(ctx_, [this, f = std::move(f), handler = std::move(handler),
                               work = std::move(work)]() mutable {
        std::exception_ptr error;
        value result{};
        timed([&] {
          try {
            if constexpr (std::is_void_v<R>)
              f(*resource_);
            else
              result = f(*resource_);
          } catch (...) {
            error = std::current_exception();
          }
        });
        --queued_;
        detail::complete_on_own_executor(std::move(handler), error, std::move(result));
      });
    };
    return boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                       void(std::exception_ptr, value)>(
        std::move(init), boost::asio::use_awaitable);
  }

  // Runs f(Resource&) on the thread, without waiting for it.
  template <class F>
  void post(F f) {
    ++queued_;
    boost::asio::post(ctx_, [this, f = std::move(f)]() mutable {
      timed([&] { f(*resource_); });
      --queued_;
    });
  }

  // Calls given and not yet finished: how busy the thread is.
  int queued() const { return queued_.load(std::memory_order_relaxed); }

 private:
  // Runs the calls. After a short call it keeps looking for the next one for a moment before it
  // sleeps: waking a sleeping thread costs tens of microseconds on a virtual machine, as much as
  // a short call itself (a relaxed enqueue, a small round), and the next call often follows at
  // once. After a long call (one that waited for the disk) a spin wins nothing and takes the
  // core (or its other hardware thread) from threads with work to do.
  void run_spinning() {
    using clock = std::chrono::steady_clock;
    constexpr auto spin = std::chrono::microseconds(50);
    for (;;) {
      if (ctx_.poll() > 0) continue;
      if (ctx_.stopped()) return;  // out of work: the work guard is gone
      if (std::exchange(last_call_short_, false)) {
        bool ran = false;
        for (const auto until = clock::now() + spin; !ran && clock::now() < until;) {
          for (int i = 0; i < 32; ++i) detail::cpu_relax();
          ran = ctx_.poll() > 0;
        }
        if (ran) continue;
      }
      if (ctx_.run_one() == 0) return;
    }
  }
  // Runs f and notes whether it was short (see run_spinning).
  template <class F>
  void timed(F&& f) {
    const auto started = std::chrono::steady_clock::now();
    f();
    last_call_short_ = std::chrono::steady_clock::now() - started < std::chrono::microseconds(100);
  }

  bool last_call_short_ = false;  // the resource's thread only
  boost::asio::io_context ctx_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<Resource> resource_;
  std::atomic<int> queued_{0};
  std::thread thread_;
};

}  // namespace spool::store
