#include "tests/e2e/admin_http.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <cstring>

#include "tests/e2e/sandbox.hpp"

namespace spool::e2e {

namespace {

struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

int remaining_ms(steady::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
  return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

// Waits until fd is ready for `events`; false when the deadline passed.
bool wait_ready(int fd, short events, steady::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

http_reply failure(std::string why) { return {0, {}, std::move(why)}; }

}  // namespace

http_reply http_request(unsigned short port, std::string_view method, std::string_view target,
                        std::string_view body, steady::duration timeout) {
  const auto deadline = steady::now() + timeout;
  fd_guard s{::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
  if (s.fd < 0) return failure(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) return failure(std::string("connect: ") + std::strerror(errno));
    if (!wait_ready(s.fd, POLLOUT, deadline)) return failure("connect: timed out");
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) return failure(std::string("connect: ") + std::strerror(err));
  }

  std::string out = std::string(method) + " " + std::string(target) +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!body.empty())
    out +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  else if (method != "GET")
    out += "Content-Type: application/json\r\nContent-Length: 0\r\n";
  out += "\r\n";
  out += body;
  for (std::size_t sent = 0; sent < out.size();) {
    const auto n = ::send(s.fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_ready(s.fd, POLLOUT, deadline)) return failure("send: timed out");
    } else {
      return failure(std::string("send: ") + std::strerror(errno));
    }
  }

  // The server closes the connection after its answer (Connection: close).
  std::string in;
  char buf[16384];
  for (;;) {
    const auto n = ::recv(s.fd, buf, sizeof buf, 0);
    if (n > 0) {
      in.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno == EAGAIN || errno == EINTR) {
      if (!wait_ready(s.fd, POLLIN, deadline)) return failure("no answer within the deadline");
    } else {
      return failure(std::string("recv: ") + std::strerror(errno));
    }
  }
  const auto head_end = in.find("\r\n\r\n");
  int status = 0;
  if (head_end == std::string::npos || std::sscanf(in.c_str(), "HTTP/1.1 %d", &status) != 1)
    return failure("not an HTTP answer: '" + in.substr(0, 200) + "'");
  return {status, in.substr(head_end + 4), {}};
}

unsigned short admin_port(process& runtime, steady::duration timeout) {
  int port = 0;
  wait_until(
      [&] {
        for (auto& e : events(runtime.err(), "http_listening")) port = int_field(e, "port");
        return port > 0 || !runtime.running();
      },
      timeout, [&] { return "the runtime logged no http_listening line: " + runtime.err(); });
  BOOST_REQUIRE_MESSAGE(port > 0, "the runtime ended before it listened: " << runtime.err());
  return static_cast<unsigned short>(port);
}

std::optional<boost::json::object> json_body(const http_reply& reply) {
  boost::system::error_code ec;
  auto v = boost::json::parse(reply.body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

std::string describe(const http_reply& reply) {
  if (!reply.answered()) return "no answer: " + reply.error;
  return std::to_string(reply.status) + " " + reply.body;
}

}  // namespace spool::e2e
