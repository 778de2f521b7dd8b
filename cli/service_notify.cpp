#include "cli/service_notify.hpp"

#include <systemd/sd-daemon.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>
#include <cstdint>
#include <string>
#include <utility>

#include "runtime/log.hpp"

namespace spool::cli {
namespace asio = boost::asio;

service_notifier::service_notifier(asio::any_io_executor ex, sink send, std::chrono::microseconds watchdog)
    : send_(std::move(send)), watchdog_(watchdog), timer_(asio::make_strand(ex)) {}

service_notifier::~service_notifier() = default;

std::unique_ptr<service_notifier> service_notifier::from_environment(asio::any_io_executor ex) {
  std::uint64_t usec = 0;
  // > 0: WATCHDOG_USEC is set and meant for this process; 0: no watchdog; < 0: a bad value.
  const int r = sd_watchdog_enabled(0, &usec);
  if (r < 0) log::warn("watchdog_ignored").kv("reason", "WATCHDOG_USEC or WATCHDOG_PID is malformed");
  const auto watchdog = std::chrono::microseconds(r > 0 ? static_cast<std::int64_t>(usec) : 0);
  if (watchdog.count() > 0)
    log::info("watchdog_enabled").kv("timeout_s", static_cast<double>(watchdog.count()) / 1e6);
  return std::make_unique<service_notifier>(ex, [](std::string_view message) {
    // Without NOTIFY_SOCKET sd_notify returns 0 and sends nothing.
    const std::string text(message);
    if (sd_notify(0, text.c_str()) < 0) log::warn("sd_notify_failed").kv("message", text);
  }, watchdog);
}

// Sent at once from the calling thread (a handler that stops the io_context right after must
// not lose its STOPPING=1 in a queue).
void service_notifier::ready() {
  if (!ready_sent_.exchange(true)) send_("READY=1");
}

void service_notifier::stopping() {
  if (!stopping_sent_.exchange(true)) send_("STOPPING=1");
}

void service_notifier::start_watchdog() {
  if (watchdog_.count() <= 0) return;
  asio::dispatch(timer_.get_executor(), [this] {
    if (watchdog_stopped_) return;
    send_("WATCHDOG=1");
    arm();
  });
}

void service_notifier::stop_watchdog() {
  asio::dispatch(timer_.get_executor(), [this] {
    watchdog_stopped_ = true;
    timer_.cancel();
  });
}

// On the timer's strand. The ping is a handler on the io_context like any other: when its
// threads are stuck, no ping goes out, and the manager's watchdog fires.
void service_notifier::arm() {
  timer_.expires_after(ping_interval());
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || watchdog_stopped_) return;
    send_("WATCHDOG=1");
    arm();
  });
}

}  // namespace spool::cli
