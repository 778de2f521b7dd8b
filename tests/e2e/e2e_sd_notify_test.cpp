// `spool run` under systemd (Type=notify), without systemd: NOTIFY_SOCKET names a datagram socket
// this test binds, as the service manager would, and reads what the runtime sends (sd_notify(3)):
// READY=1 once the store is open and the admin endpoint accepts, WATCHDOG=1 every half
// WATCHDOG_USEC while WATCHDOG_PID is the runtime's own, STOPPING=1 at SIGTERM.
#define BOOST_TEST_MODULE e2e_sd_notify
#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>

#include "tests/e2e/admin_http.hpp"
#include "tests/e2e/sandbox.hpp"

using namespace spool::e2e;

namespace {

// The service manager's end: an AF_UNIX datagram socket bound at `path`.
class notify_socket {
 public:
  explicit notify_socket(const std::filesystem::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    BOOST_REQUIRE_MESSAGE(fd_ >= 0, "socket: " << std::strerror(errno));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    BOOST_REQUIRE(path.string().size() < sizeof addr.sun_path);
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    BOOST_REQUIRE_MESSAGE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0,
                          "bind " << path << ": " << std::strerror(errno));
  }
  ~notify_socket() {
    ::close(fd_);
    std::filesystem::remove(path_);
  }
  notify_socket(const notify_socket&) = delete;
  notify_socket& operator=(const notify_socket&) = delete;

  // The next datagram, or nullopt if none arrives within `timeout`.
  std::optional<std::string> receive(steady::duration timeout) {
    pollfd p{fd_, POLLIN, 0};
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
    if (::poll(&p, 1, static_cast<int>(ms)) != 1) return std::nullopt;
    char buf[4096];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
  }

  // Reads messages until one equals `wanted`; every message read is appended to `seen`.
  bool receive_until(const std::string& wanted, std::vector<std::string>& seen,
                     steady::duration timeout) {
    const auto deadline = steady::now() + timeout;
    while (steady::now() < deadline) {
      auto m = receive(deadline - steady::now());
      if (!m) break;
      seen.push_back(*m);
      if (*m == wanted) return true;
    }
    return false;
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

std::string joined(const std::vector<std::string>& seen) {
  std::string text;
  for (auto& m : seen) text += (text.empty() ? "" : " | ") + m;
  return text.empty() ? "nothing" : text;
}

// `spool run` started through `sh -c 'export WATCHDOG_PID=$$; exec spool ...'`: the exec keeps
// the shell's PID, so WATCHDOG_PID names the runtime itself, as systemd sets it.
std::unique_ptr<process> start_notified_runtime(sandbox& sb, const std::vector<std::string>& env,
                                                bool own_watchdog_pid) {
  std::vector<std::string> args{"-c",
                                own_watchdog_pid ? "export WATCHDOG_PID=$$; exec \"$@\""
                                                 : "export WATCHDOG_PID=1; exec \"$@\"",
                                "sh", spool_bin(), "--db", sb.db_url(), "run", "--log-format",
                                "json"};
  spawn_options opts{sb.dir(), sb.dir() / "run.out", sb.dir() / "run.err",
                     {"SPOOL_HTTP=127.0.0.1:0"}};
  opts.env.insert(opts.env.end(), env.begin(), env.end());
  return std::make_unique<process>("/bin/sh", args, opts);
}

std::size_t count(const std::vector<std::string>& seen, const std::string& m) {
  return static_cast<std::size_t>(std::count(seen.begin(), seen.end(), m));
}

}  // namespace

BOOST_AUTO_TEST_CASE(ready_once_the_admin_endpoint_accepts_then_watchdog_pings_then_stopping) {
  sandbox sb;
  notify_socket manager(sb.dir() / "notify.sock");
  // 400 ms: a ping every 200 ms.
  auto rt = start_notified_runtime(
      sb, {"NOTIFY_SOCKET=" + (sb.dir() / "notify.sock").string(), "WATCHDOG_USEC=400000"}, true);

  std::vector<std::string> seen;
  BOOST_REQUIRE_MESSAGE(manager.receive_until("READY=1", seen, 30s),
                        "no READY=1; received: " << joined(seen) << "\n" << rt->err());
  BOOST_TEST(seen.size() == 1u, "before READY=1: " << joined(seen));
  // The admin endpoint takes connections by the time READY=1 is sent.
  const auto port = admin_port(*rt);
  const auto reply = http_request(port, "GET", "/healthz", {}, 10s);
  BOOST_TEST(reply.status == 200, describe(reply));

  // WATCHDOG_PID is this process: pings arrive (the first at once, then every 200 ms).
  for (int i = 0; i < 3; ++i)
    BOOST_REQUIRE_MESSAGE(manager.receive_until("WATCHDOG=1", seen, 30s),
                          "WATCHDOG=1 #" << i + 1 << " missing; received: " << joined(seen));
  BOOST_TEST(count_events(rt->err(), "watchdog_enabled") == 1u);

  rt->signal(SIGTERM);
  BOOST_REQUIRE_MESSAGE(manager.receive_until("STOPPING=1", seen, 30s),
                        "no STOPPING=1 after SIGTERM; received: " << joined(seen));
  const auto status = rt->wait_for(30s);
  BOOST_REQUIRE_MESSAGE(status, "the runtime still runs 30 s after SIGTERM");
  BOOST_TEST(*status == 0, describe(*status) << "\n" << rt->err());
  // Whatever came after STOPPING=1 (a last ping at most): never READY=1 or STOPPING=1 again.
  while (auto m = manager.receive(0s)) seen.push_back(*m);
  BOOST_TEST(count(seen, "READY=1") == 1u, joined(seen));
  BOOST_TEST(count(seen, "STOPPING=1") == 1u, joined(seen));
  for (auto& m : seen)
    BOOST_TEST((m == "READY=1" || m == "WATCHDOG=1" || m == "STOPPING=1"), "unexpected: " << m);
}

// A WATCHDOG_PID of another process (a watchdog meant for a parent): no pings, and the runtime
// says nothing about a watchdog; READY=1 and STOPPING=1 still come.
BOOST_AUTO_TEST_CASE(a_watchdog_meant_for_another_process_is_not_served) {
  sandbox sb;
  notify_socket manager(sb.dir() / "notify.sock");
  auto rt = start_notified_runtime(
      sb, {"NOTIFY_SOCKET=" + (sb.dir() / "notify.sock").string(), "WATCHDOG_USEC=20000"}, false);
  std::vector<std::string> seen;
  BOOST_REQUIRE_MESSAGE(manager.receive_until("READY=1", seen, 30s),
                        "no READY=1; received: " << joined(seen) << "\n" << rt->err());
  (void)admin_port(*rt);
  rt->signal(SIGTERM);
  BOOST_REQUIRE_MESSAGE(manager.receive_until("STOPPING=1", seen, 30s),
                        "no STOPPING=1 after SIGTERM; received: " << joined(seen));
  const auto status = rt->wait_for(30s);
  BOOST_REQUIRE(status);
  BOOST_TEST(*status == 0, describe(*status));
  while (auto m = manager.receive(0s)) seen.push_back(*m);
  BOOST_TEST(count(seen, "WATCHDOG=1") == 0u, joined(seen));
  BOOST_TEST(count_events(rt->err(), "watchdog_enabled") == 0u);
}
