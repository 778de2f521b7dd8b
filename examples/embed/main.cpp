// Embedding Spool in an Asio program: the program owns its io_context, registers its own job kind
// (a coroutine), enqueues jobs and runs the runtime inside its own loop.
//
//   embed_example [DB_PATH] [JOBS]
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <atomic>
#include <iostream>
#include <string>

#include <spool/spool.hpp>

namespace asio = boost::asio;

int main(int argc, char** argv) {
  const std::string db = argc > 1 ? argv[1] : "embed.db";
  const int total = argc > 2 ? std::stoi(argv[2]) : 100;

  asio::io_context ioc;
  std::atomic<int> greeted{0};

  // Our own job kind: a coroutine that may await anything on the loop.
  spool::jobs::registry kinds;
  kinds.add("greet", [&](spool::jobs::job_context& job) -> asio::awaitable<spool::jobs::outcome> {
    asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(1));
    co_await pause.async_wait(asio::use_awaitable);
    job.log("hello, " + std::string(job.payload().at("name").as_string()));
    ++greeted;
    co_return spool::jobs::outcome::success();
  });

  spool::config::settings settings;
  settings.db = "sqlite:" + db;
  settings.queues = {{"default", 8}};
  settings.log_level = "warn";
  spool::runtime::runtime rt(ioc.get_executor(), settings, std::move(kinds));

  asio::co_spawn(ioc, rt.run(), [&](std::exception_ptr e) {
    if (e) std::cerr << "runtime failed\n";
  });

  // Enqueue from a coroutine of our own, then stop the runtime once every job ran.
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        std::vector<spool::jobs::new_job> batch;
        for (int i = 0; i < total; ++i)
          batch.push_back({.kind = "greet", .payload = R"({"name":"job )" + std::to_string(i) + "\"}"});
        auto ids = co_await rt.enqueue(std::move(batch));
        std::cout << "enqueued " << ids.size() << " jobs\n";
        asio::steady_timer poll(co_await asio::this_coro::executor);
        while (greeted < total) {
          poll.expires_after(std::chrono::milliseconds(10));
          co_await poll.async_wait(asio::use_awaitable);
        }
        rt.stop();
      },
      [&](std::exception_ptr e) {
        if (e) {
          std::cerr << "enqueue failed\n";
          rt.stop();
        }
      });

  ioc.run();
  std::cout << "greeted " << greeted << " of " << total << "\n";
  return greeted == total ? 0 : 1;
}
