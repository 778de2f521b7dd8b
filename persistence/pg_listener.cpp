#include "persistence/pg_listener.hpp"

#include <libpq-fe.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <stdexcept>

#include "persistence/database_url.hpp"

namespace spool::store {
namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;
using wait_type = asio::posix::stream_descriptor::wait_type;

namespace {

std::string message_of(PGconn* c) {
  std::string m = c ? PQerrorMessage(c) : "out of memory";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

}  // namespace

// One libpq connection in non-blocking mode and the waits on its socket.
struct pg_listener::connection {
  PGconn* conn = nullptr;
  ~connection() {
    if (conn) PQfinish(conn);
  }

  // Waits until the socket is ready for `w`, or `limit` passes; returns false on timeout.
  asio::awaitable<bool> wait(wait_type w, std::chrono::steady_clock::duration limit) {
    auto ex = co_await asio::this_coro::executor;
    asio::posix::stream_descriptor socket(ex, PQsocket(conn));
    asio::steady_timer timer(ex, limit);
    auto ready = socket.async_wait(w, asio::as_tuple(asio::use_awaitable));
    auto timeout = timer.async_wait(asio::as_tuple(asio::use_awaitable));
    auto which = co_await (std::move(ready) || std::move(timeout));
    socket.release();  // libpq owns the socket
    co_return which.index() == 0;
  }

  asio::awaitable<void> open(const std::string& conninfo) {
    conn = PQconnectStart(conninfo.c_str());
    if (!conn || PQstatus(conn) == CONNECTION_BAD) throw std::runtime_error(message_of(conn));
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (auto st = PGRES_POLLING_WRITING; st != PGRES_POLLING_OK; st = PQconnectPoll(conn)) {
      if (st == PGRES_POLLING_FAILED) throw std::runtime_error(message_of(conn));
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= 0s || !co_await wait(st == PGRES_POLLING_READING ? wait_type::wait_read
                                                                   : wait_type::wait_write,
                                        left))
        throw std::runtime_error("connecting timed out");
    }
    if (PQsetnonblocking(conn, 1) != 0) throw std::runtime_error(message_of(conn));
  }

  // Sends one command and reads its results to the end.
  asio::awaitable<void> exec(const std::string& command) {
    if (!PQsendQuery(conn, command.c_str())) throw std::runtime_error(message_of(conn));
    while (PQflush(conn) == 1) co_await wait(wait_type::wait_write, 10s);
    for (;;) {
      while (!PQisBusy(conn)) {
        PGresult* r = PQgetResult(conn);
        if (!r) co_return;
        const auto status = PQresultStatus(r);
        PQclear(r);
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
          throw std::runtime_error(command + ": " + message_of(conn));
      }
      if (!co_await wait(wait_type::wait_read, 10s)) throw std::runtime_error(command + ": timed out");
      if (!PQconsumeInput(conn)) throw std::runtime_error(message_of(conn));
    }
  }
};

pg_listener::pg_listener(std::string url, handlers h)
    : conninfo_(conninfo(url)), on_(std::move(h)) {}

pg_listener::~pg_listener() = default;

asio::awaitable<void> pg_listener::listen_once() {
  connection c;
  co_await c.open(conninfo_);
  co_await c.exec(std::string("LISTEN ") + notify_channel);
  connected_ = true;
  if (on_.connected) on_.connected();
  // The short wait bounds how long stop() takes.
  while (!stopped_) {
    if (!co_await c.wait(wait_type::wait_read, 1s)) continue;
    if (!PQconsumeInput(c.conn)) throw std::runtime_error(message_of(c.conn));
    while (PGnotify* n = PQnotifies(c.conn)) {
      const std::string payload = n->extra ? n->extra : "";
      PQfreemem(n);
      on_.notified(payload);
    }
  }
}

asio::awaitable<void> pg_listener::run() {
  auto backoff = 100ms;
  while (!stopped_) {
    try {
      co_await listen_once();
    } catch (const std::exception& e) {
      if (on_.failed) on_.failed(e.what(), backoff);
    }
    const bool was_connected = connected_.exchange(false);
    if (was_connected) backoff = 100ms;
    if (stopped_) break;
    asio::steady_timer pause(co_await asio::this_coro::executor, backoff);
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, 5s);
  }
}

}  // namespace spool::store
