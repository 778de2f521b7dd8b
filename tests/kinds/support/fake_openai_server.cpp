#include "tests/kinds/support/fake_openai_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <thread>

namespace spool::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// A fake that breaks should say so, not make a test hang for a reason nobody sees.
void report(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    std::fprintf(stderr, "fake_openai_server: coroutine failed: %s\n", x.what());
  }
}

struct fake_openai_server::impl {
  impl(fake_openai_server& o, script s, asio::ssl::context* t)
      : owner(o), run(std::move(s)), tls(t), acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}

  fake_openai_server& owner;
  script run;
  asio::ssl::context* tls;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  std::thread thread;
  mutable std::mutex mutex;
  std::vector<received> seen;
  std::optional<steady::time_point> hang_started, hang_closed;

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(nothrow);
      if (ec) co_return;
      const int id = ++owner.connections_;
      if (tls) {
        auto stream = std::make_shared<beast::ssl_stream<beast::tcp_stream>>(std::move(socket), *tls);
        asio::co_spawn(ioc, serve_tls(stream, id), report);
      } else {
        auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
        asio::co_spawn(ioc, serve(stream, id), report);
      }
    }
  }

  asio::awaitable<void> serve_tls(std::shared_ptr<beast::ssl_stream<beast::tcp_stream>> s, int id) {
    auto [ec] = co_await s->async_handshake(asio::ssl::stream_base::server, nothrow);
    if (ec) co_return;
    co_await serve(s, id);
  }

  template <class Stream>
  asio::awaitable<void> serve(std::shared_ptr<Stream> stream, int id) {
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request<bhttp::string_body> req;
      auto [ec, _] = co_await bhttp::async_read(*stream, buffer, req, nothrow);
      if (ec) co_return;
      received r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      r.authorization = std::string(req[bhttp::field::authorization]);
      r.content_type = std::string(req[bhttp::field::content_type]);
      r.host = std::string(req[bhttp::field::host]);
      for (auto& f : req) r.headers[std::string(f.name_string())] = std::string(f.value());
      r.body = req.body();
      boost::system::error_code pec;
      auto v = json::parse(r.body, pec);
      if (!pec && v.is_object()) r.json = v.get_object();
      r.at = steady::now();
      r.connection = id;
      const int n = owner.count_.fetch_add(1);
      const int now_in = ++owner.in_flight_;
      for (int m = owner.max_in_flight_.load(); now_in > m && !owner.max_in_flight_.compare_exchange_weak(m, now_in);) {
      }
      {
        std::lock_guard lock(mutex);
        seen.push_back(r);
      }
      const reply out = run(r, n);
      if (out.delay.count() > 0) {
        asio::steady_timer t(ioc, out.delay);
        co_await t.async_wait(nothrow);
      }
      if (out.hang) {
        {
          std::lock_guard lock(mutex);
          hang_started = steady::now();
        }
        // Wait for the client to go away: a read that ends in EOF or a reset.
        char byte;
        for (;;) {
          auto [rec, got] = co_await beast::get_lowest_layer(*stream).async_read_some(asio::buffer(&byte, 1), nothrow);
          if (rec) break;
        }
        {
          std::lock_guard lock(mutex);
          hang_closed = steady::now();
        }
        --owner.in_flight_;
        co_return;
      }
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(out.status), 11};
      res.set(bhttp::field::content_type, "application/json");
      for (auto& [k, val] : out.headers) res.set(k, val);
      res.body() = out.body;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      --owner.in_flight_;
      auto [wec, written] = co_await bhttp::async_write(*stream, res, nothrow);
      if (wec || !req.keep_alive()) co_return;
      if (out.close_after) {
        beast::get_lowest_layer(*stream).close();
        co_return;
      }
    }
  }
};

std::string fake_openai_server::received::system_prompt() const {
  if (auto* m = json.if_contains("messages"); m && m->is_array() && !m->get_array().empty())
    if (auto* c = m->get_array()[0].as_object().if_contains("content"); c && c->is_string())
      return std::string(c->get_string());
  return {};
}

std::string fake_openai_server::received::user_prompt() const {
  if (auto* m = json.if_contains("messages"); m && m->is_array() && m->get_array().size() > 1)
    if (auto* c = m->get_array()[1].as_object().if_contains("content"); c && c->is_string())
      return std::string(c->get_string());
  return {};
}

bool fake_openai_server::received::asks_for_profile() const {
  return system_prompt().find("profile") != std::string::npos;
}

fake_openai_server::fake_openai_server(script s, asio::ssl::context* tls)
    : impl_(std::make_unique<impl>(*this, std::move(s), tls)) {
  asio::co_spawn(impl_->ioc, impl_->accept_loop(), report);
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

fake_openai_server::~fake_openai_server() {
  impl_->ioc.stop();
  impl_->thread.join();
}

unsigned short fake_openai_server::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string fake_openai_server::url() const {
  return std::string(impl_->tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port());
}

std::vector<fake_openai_server::received> fake_openai_server::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->seen;
}

std::optional<fake_openai_server::steady::time_point> fake_openai_server::hang_closed_at() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->hang_closed;
}

std::optional<fake_openai_server::steady::time_point> fake_openai_server::hang_started_at() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->hang_started;
}

std::string fake_openai_server::completion(const std::string& content, int prompt_tokens,
                                           int completion_tokens) {
  return json::serialize(json::object{
      {"id", "chatcmpl-test"},
      {"object", "chat.completion"},
      {"model", "test-model"},
      {"choices", json::array{json::object{{"index", 0},
                                           {"message", json::object{{"role", "assistant"}, {"content", content}}},
                                           {"finish_reason", "stop"}}}},
      {"usage", json::object{{"prompt_tokens", prompt_tokens},
                             {"completion_tokens", completion_tokens},
                             {"total_tokens", prompt_tokens + completion_tokens}}}});
}

std::string fake_openai_server::analysis_json(const std::string& category, const std::string& sentiment) {
  return json::serialize(json::object{{"summary", "Studied Rust ownership for two hours."},
                                      {"category", category},
                                      {"tags", json::array{"rust", "study"}},
                                      {"sentiment", sentiment}});
}

std::string fake_openai_server::profile_json() {
  return json::serialize(json::object{{"interests", json::array{"rust", "systems programming"}},
                                      {"activity_summary", "Has been learning Rust."},
                                      {"traits", json::array{"curious"}}});
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace spool::test
