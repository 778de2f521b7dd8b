#pragma once
// An asynchronous counting semaphore: at most N holders, the others wait in FIFO order, and a
// wait can be cancelled through the waiter's cancellation slot. It is a channel with N buffer
// places: acquiring sends (and waits while the buffer is full), releasing takes one out.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace spool::kinds::ai {

class concurrency_limit {
 public:
  concurrency_limit(boost::asio::any_io_executor ex, int n)
      : slots_(std::move(ex), static_cast<std::size_t>(n)) {}

  // True once a place is held (release it!); false if the wait was cancelled.
  boost::asio::awaitable<bool> acquire() {
    auto [ec] = co_await slots_.async_send(boost::system::error_code{},
                                           boost::asio::as_tuple(boost::asio::use_awaitable));
    co_return !ec;
  }
  void release() {
    slots_.try_receive([](boost::system::error_code) {});
  }

  // Releases on destruction, however the holder's coroutine ends.
  struct held {
    concurrency_limit* limit = nullptr;
    held() = default;
    explicit held(concurrency_limit& l) : limit(&l) {}
    held(const held&) = delete;
    held& operator=(const held&) = delete;
    ~held() {
      if (limit) limit->release();
    }
  };

 private:
  boost::asio::experimental::concurrent_channel<void(boost::system::error_code)> slots_;
};

}  // namespace spool::kinds::ai
