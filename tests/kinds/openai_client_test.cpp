// The openai backend's HTTP client against a fake OpenAI-compatible server on loopback: what it
// sends, keep-alive reuse, stale connections, the concurrency limit, https, cancellation, failures
// as values, metrics.
#define BOOST_TEST_MODULE openai_client
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <thread>

#include "kinds/ai/inference_metrics.hpp"
#include "kinds/ai/openai_client.hpp"
#include "tests/kinds/support/fake_openai_server.hpp"
#include "tests/kinds/support/self_signed.hpp"
#include "tests/support/temp_dir.hpp"

namespace asio = boost::asio;
namespace json = boost::json;
using namespace spool;
using namespace spool::kinds::ai;
using namespace std::chrono_literals;
using test::fake_openai_server;
using steady = std::chrono::steady_clock;

namespace {

chat_request hello() {
  chat_request r;
  r.messages = {{"system", "You answer in JSON."}, {"user", "Say hi."}};
  return r;
}

// The metrics series are process-wide per (backend, model): each test uses its own model name.
openai_options options_for(const fake_openai_server& server, std::string model) {
  openai_options o;
  o.url = server.url();
  o.model = std::move(model);
  o.api_key = "sk-test";
  o.timeout = 5s;
  return o;
}

// Runs `n` concurrent calls on a fresh io_context and returns their results in call order.
std::vector<chat_result> call(openai_client& client, asio::io_context& ioc, int n = 1) {
  std::vector<std::optional<chat_result>> out(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    asio::co_spawn(ioc, client.complete(hello()), [&out, i](std::exception_ptr e, chat_result r) {
      if (e) std::rethrow_exception(e);
      out[static_cast<std::size_t>(i)] = std::move(r);
    });
  ioc.run();
  ioc.restart();
  std::vector<chat_result> results;
  for (auto& r : out) results.push_back(std::move(r.value()));
  return results;
}

const inference_failure& failure_of(const chat_result& r) {
  BOOST_REQUIRE(std::holds_alternative<inference_failure>(r));
  return std::get<inference_failure>(r);
}

fake_openai_server::reply ok(std::string content = R"({"hi":true})") {
  return {200, fake_openai_server::completion(content), {}, {}, false, false};
}

}  // namespace

BOOST_AUTO_TEST_CASE(it_posts_a_chat_completion_and_reads_the_answer) {
  fake_openai_server server([](auto&, int) { return ok(); });
  asio::io_context ioc;
  openai_client client(ioc.get_executor(), options_for(server, "m-basic"));
  auto results = call(client, ioc);
  BOOST_REQUIRE(std::holds_alternative<chat_reply>(results[0]));
  const auto& reply = std::get<chat_reply>(results[0]);
  BOOST_TEST(reply.content == R"({"hi":true})");
  BOOST_TEST(reply.prompt_tokens.value_or(0) == 11);
  BOOST_TEST(reply.completion_tokens.value_or(0) == 7);
  auto seen = server.requests();
  BOOST_REQUIRE_EQUAL(seen.size(), 1u);
  BOOST_TEST(seen[0].method == "POST");
  BOOST_TEST(seen[0].target == "/v1/chat/completions");
  BOOST_TEST(seen[0].authorization == "Bearer sk-test");
  BOOST_TEST(seen[0].content_type == "application/json");
  BOOST_TEST(seen[0].json.at("model").as_string() == "m-basic");
  BOOST_TEST(seen[0].user_prompt() == "Say hi.");
  BOOST_TEST(client.name() == "openai:m-basic");
  const auto& m = inference_metrics_for("openai", "m-basic");
  BOOST_TEST(m.requests.load() == 1u);
  BOOST_TEST(m.prompt_tokens.load() == 11u);
  BOOST_TEST(m.completion_tokens.load() == 7u);
  BOOST_TEST(m.latency.count() == 1u);
}

BOOST_AUTO_TEST_CASE(a_host_name_is_looked_up_and_sent_as_host) {
  fake_openai_server server([](auto&, int) { return ok(); });
  asio::io_context ioc;
  auto o = options_for(server, "m-name");
  o.url = "http://localhost:" + std::to_string(server.port()) + "/v1/";
  openai_client client(ioc.get_executor(), o);
  BOOST_TEST(std::holds_alternative<chat_reply>(call(client, ioc)[0]));
  BOOST_REQUIRE_EQUAL(server.requests().size(), 1u);
  BOOST_TEST(server.requests()[0].target == "/v1/chat/completions");
  BOOST_TEST(server.requests()[0].host == "localhost:" + std::to_string(server.port()));
}

BOOST_AUTO_TEST_CASE(connections_are_kept_alive_and_reused) {
  fake_openai_server server([](auto&, int) { return ok(); });
  asio::io_context ioc;
  openai_client client(ioc.get_executor(), options_for(server, "m-reuse"));
  for (int i = 0; i < 3; ++i) BOOST_TEST(std::holds_alternative<chat_reply>(call(client, ioc)[0]));
  BOOST_TEST(server.request_count() == 3);
  BOOST_TEST(server.connections() == 1);
  BOOST_TEST(client.idle_connections() == 1u);
}

BOOST_AUTO_TEST_CASE(a_pooled_connection_the_server_closed_is_replaced_transparently) {
  // The server answers with keep-alive but then closes the connection silently, as idle
  // connections get closed in real life.
  fake_openai_server server([](auto&, int) {
    auto r = ok();
    r.close_after = true;
    return r;
  });
  asio::io_context ioc;
  openai_client client(ioc.get_executor(), options_for(server, "m-stale"));
  BOOST_TEST(std::holds_alternative<chat_reply>(call(client, ioc)[0]));
  BOOST_REQUIRE(test::eventually([&] { return server.connections() == 1; }));
  std::this_thread::sleep_for(50ms);  // let the server's FIN arrive
  BOOST_TEST(std::holds_alternative<chat_reply>(call(client, ioc)[0]));
  BOOST_TEST(server.request_count() == 2);
  BOOST_TEST(server.connections() == 2);
}

BOOST_AUTO_TEST_CASE(max_concurrency_limits_requests_in_flight_across_callers) {
  fake_openai_server server([](auto&, int) {
    auto r = ok();
    r.delay = 100ms;
    return r;
  });
  asio::io_context ioc;
  auto o = options_for(server, "m-limit");
  o.max_concurrency = 2;
  openai_client client(ioc.get_executor(), o);
  const auto started = steady::now();
  auto results = call(client, ioc, 6);
  for (auto& r : results) BOOST_TEST(std::holds_alternative<chat_reply>(r));
  BOOST_TEST(server.max_in_flight() == 2);
  BOOST_TEST(server.connections() <= 2);
  BOOST_TEST((steady::now() - started >= 300ms));  // three rounds of two
}

BOOST_AUTO_TEST_CASE(http_errors_are_values_with_status_body_and_retry_after) {
  fake_openai_server server([](auto&, int n) -> fake_openai_server::reply {
    if (n == 0) return {404, R"({"error":{"message":"model 'nope' not found"}})", {}, {}, false, false};
    if (n == 1) return {429, "busy", {{"Retry-After", "3"}}, {}, false, false};
    if (n == 2) return {503, "down", {}, {}, false, false};
    return {200, "<html>not json</html>", {}, {}, false, false};
  });
  asio::io_context ioc;
  openai_client client(ioc.get_executor(), options_for(server, "m-errors"));
  const auto not_found = failure_of(call(client, ioc)[0]);
  BOOST_TEST((not_found.kind == failure_class::rejected));
  BOOST_TEST(not_found.status == 404u);
  BOOST_TEST(not_found.body == R"({"error":{"message":"model 'nope' not found"}})");
  const auto limited = failure_of(call(client, ioc)[0]);
  BOOST_TEST((limited.kind == failure_class::rate_limited));
  BOOST_TEST(limited.retry_after.value_or(0s).count() == 3);
  const auto down = failure_of(call(client, ioc)[0]);
  BOOST_TEST((down.kind == failure_class::server_error));
  BOOST_TEST(!down.retry_after);
  const auto garbage = failure_of(call(client, ioc)[0]);
  BOOST_TEST((garbage.kind == failure_class::bad_response));
  BOOST_TEST(garbage.message.find("not JSON") != std::string::npos);
  const auto& m = inference_metrics_for("openai", "m-errors");
  BOOST_TEST(m.requests.load() == 4u);
  BOOST_TEST(m.errors_of(failure_class::rejected) == 1u);
  BOOST_TEST(m.errors_of(failure_class::rate_limited) == 1u);
  BOOST_TEST(m.errors_of(failure_class::server_error) == 1u);
  BOOST_TEST(m.errors_of(failure_class::bad_response) == 1u);
  std::string text;
  runtime::exposition out(text);
  render_inference_metrics(out);
  BOOST_TEST(text.find(R"(spool_inference_errors_total{backend="openai",model="m-errors",class="rate_limited"} 1)") !=
             std::string::npos);
  BOOST_TEST(text.find(R"(spool_inference_duration_seconds_count{backend="openai",model="m-errors"} 4)") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_refused_connection_and_a_silent_server_fail_as_connect_and_timeout) {
  unsigned short closed_port = 0;
  {
    fake_openai_server gone([](auto&, int) { return ok(); });
    closed_port = gone.port();
  }
  asio::io_context ioc;
  openai_options o;
  o.url = "http://127.0.0.1:" + std::to_string(closed_port);
  o.model = "m-refused";
  openai_client refused(ioc.get_executor(), o);
  BOOST_TEST((failure_of(call(refused, ioc)[0]).kind == failure_class::connect));

  fake_openai_server silent([](auto&, int) {
    fake_openai_server::reply r;
    r.hang = true;
    return r;
  });
  auto so = options_for(silent, "m-timeout");
  so.timeout = 200ms;
  openai_client waiting(ioc.get_executor(), so);
  const auto started = steady::now();
  const auto timed_out = failure_of(call(waiting, ioc)[0]);
  BOOST_TEST((timed_out.kind == failure_class::timeout));
  BOOST_TEST((steady::now() - started < 2s));
  BOOST_TEST(test::eventually([&] { return silent.hang_closed_at().has_value(); }));
}

BOOST_AUTO_TEST_CASE(cancelling_the_caller_aborts_the_exchange_at_once) {
  fake_openai_server server([](auto&, int) {
    fake_openai_server::reply r;
    r.hang = true;
    return r;
  });
  asio::io_context ioc;
  openai_client client(ioc.get_executor(), options_for(server, "m-cancel"));
  asio::cancellation_signal signal;
  std::optional<chat_result> result;
  asio::co_spawn(ioc, client.complete(hello()),
                 asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, chat_result r) {
                   if (e) std::rethrow_exception(e);
                   result = std::move(r);
                 }));
  steady::time_point cancelled_at{};
  // Cancel from the io_context once the server holds the request.
  std::function<void()> poll;
  asio::steady_timer timer(ioc);
  poll = [&] {
    timer.expires_after(2ms);
    timer.async_wait([&](boost::system::error_code) {
      if (!server.hang_started_at()) return poll();
      cancelled_at = steady::now();
      signal.emit(asio::cancellation_type::terminal);
    });
  };
  poll();
  ioc.run();
  BOOST_REQUIRE(result);
  BOOST_TEST((failure_of(*result).kind == failure_class::cancelled));
  BOOST_REQUIRE(test::eventually([&] { return server.hang_closed_at().has_value(); }));
  const auto lag = *server.hang_closed_at() - cancelled_at;
  const double lag_ms = std::chrono::duration<double, std::milli>(lag).count();
  BOOST_TEST((lag < 100ms), "the server saw the close " << lag_ms << " ms later");
}

BOOST_AUTO_TEST_CASE(https_verifies_the_server_against_the_configured_ca) {
  const auto pem = test::self_signed_for_localhost();
  asio::ssl::context server_tls(asio::ssl::context::tls_server);
  server_tls.use_certificate_chain(asio::buffer(pem.certificate));
  server_tls.use_private_key(asio::buffer(pem.private_key), asio::ssl::context::pem);
  fake_openai_server server([](auto&, int) { return ok(); }, &server_tls);
  BOOST_TEST(server.url().starts_with("https://"));

  test::temp_dir dir;
  const auto ca = (dir.path / "ca.pem").string();
  std::ofstream(ca) << pem.certificate;
  asio::io_context ioc;
  auto o = options_for(server, "m-tls");
  o.ca_file = ca;
  openai_client trusting(ioc.get_executor(), o);
  auto results = call(trusting, ioc, 2);
  BOOST_TEST(std::holds_alternative<chat_reply>(results[0]));
  BOOST_TEST(std::holds_alternative<chat_reply>(results[1]));
  BOOST_TEST(server.request_count() == 2);

  // The system's trust store does not know this certificate: no request gets through.
  openai_client strict(ioc.get_executor(), options_for(server, "m-tls-strict"));
  const auto refused = failure_of(call(strict, ioc)[0]);
  BOOST_TEST((refused.kind == failure_class::connect));
  BOOST_TEST(server.request_count() == 2);

  auto bad = options_for(server, "m-tls-bad");
  bad.ca_file = (dir.path / "missing.pem").string();
  BOOST_CHECK_THROW(openai_client(ioc.get_executor(), bad), std::runtime_error);
  bad.url = "ftp://x";
  BOOST_CHECK_THROW(openai_client(ioc.get_executor(), bad), std::invalid_argument);
}
