#pragma once
// What `spool run` tells its service manager (sd_notify(3)): READY=1 once the store is open and
// the admin endpoint listens, STOPPING=1 when shutdown begins, and WATCHDOG=1 every half
// WatchdogSec from a timer on the io_context, so a stuck io_context stops the pings and systemd
// restarts the service. Outside systemd (no NOTIFY_SOCKET) every call does nothing.
//
// The logic (once-only messages, the ping timer) is plain and takes any sink; from_environment()
// binds it to libsystemd's sd_notify and sd_watchdog_enabled.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string_view>

namespace spool::cli {

class service_notifier {
 public:
  // Sends one sd_notify message, such as "READY=1"; called from any thread.
  using sink = std::function<void(std::string_view)>;

  // watchdog: the WatchdogSec the manager expects pings within; zero means no watchdog.
  service_notifier(boost::asio::any_io_executor ex, sink send, std::chrono::microseconds watchdog);
  // libsystemd: sd_notify() to $NOTIFY_SOCKET, the watchdog as sd_watchdog_enabled() reports it
  // (WATCHDOG_USEC, and WATCHDOG_PID when set must be this process).
  static std::unique_ptr<service_notifier> from_environment(boost::asio::any_io_executor ex);
  ~service_notifier();
  service_notifier(const service_notifier&) = delete;
  service_notifier& operator=(const service_notifier&) = delete;

  // The interval between pings: half the watchdog timeout (zero without a watchdog).
  std::chrono::microseconds ping_interval() const { return watchdog_ / 2; }

  // Each sends its message at most once; any thread.
  void ready();
  void stopping();
  // Starts the pings (WATCHDOG=1 now, then every ping_interval()) on the executor; a no-op
  // without a watchdog. stop_watchdog() ends them (any thread), so the io_context can finish.
  void start_watchdog();
  void stop_watchdog();

 private:
  void arm();

  sink send_;
  std::chrono::microseconds watchdog_;
  boost::asio::steady_timer timer_;
  std::atomic<bool> ready_sent_{false};
  std::atomic<bool> stopping_sent_{false};
  bool watchdog_stopped_ = false;  // on the timer's strand
};

}  // namespace spool::cli
