// Transactional enqueue: the application keeps its orders in the database its runtime uses and
// enqueues each order's "ship" job in the transaction that writes the order, through its own SOCI
// session. An order and its job are committed together or not at all.
//
//   transactional_example [DB_PATH] [ORDERS]
//
// On PostgreSQL the same code works with soci::postgresql and the runtime's database; there the
// runtime wakes at the commit by itself (NOTIFY), so the rt.wake() below is not needed.
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include <spool/spool.hpp>
#include <spool/transactional.hpp>

namespace asio = boost::asio;

int main(int argc, char** argv) {
  const std::string db = argc > 1 ? argv[1] : "transactional.db";
  const int orders = argc > 2 ? std::stoi(argv[2]) : 20;

  std::atomic<int> shipped{0};
  spool::jobs::registry kinds;
  kinds.add("ship", [&](spool::jobs::job_context& job) -> asio::awaitable<spool::jobs::outcome> {
    job.log("shipping order " + std::to_string(job.payload().at("order").as_int64()));
    ++shipped;
    co_return spool::jobs::outcome::success();
  });

  spool::config::settings settings;
  settings.db = "sqlite:" + db;
  settings.queues = {{"default", 4}};
  settings.log_level = "warn";
  asio::io_context ioc;
  spool::runtime::runtime rt(ioc.get_executor(), settings, std::move(kinds));  // migrates the file
  asio::co_spawn(ioc, rt.run(), [](std::exception_ptr e) {
    if (e) std::cerr << "runtime failed\n";
  });
  std::thread loop([&] { ioc.run(); });

  // The application's own connection and table, on the runtime's database file. Its database
  // work blocks, as a request handler's would: it runs on this thread, not on the runtime's loop.
  soci::session app(soci::sqlite3, "db=" + db + " timeout=5");
  app << "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL)";
  auto place = [&](int id, bool commit) {
    app << "BEGIN IMMEDIATE";  // SQLite: take the write lock up front
    try {
      const std::string item = "book " + std::to_string(id);
      app << "INSERT INTO orders (id, item) VALUES (:id, :item)", soci::use(id), soci::use(item);
      spool::enqueue(app, {.kind = "ship", .payload = "{\"order\":" + std::to_string(id) + "}",
                           .unique_key = "ship-order-" + std::to_string(id)});
      app << (commit ? "COMMIT" : "ROLLBACK");
    } catch (...) {
      app << "ROLLBACK";
      throw;
    }
  };
  int failed = 0;
  try {
    for (int i = 1; i <= orders; ++i) place(i, true);
    place(orders + 1, false);  // a transaction that fails after enqueueing: no order, no job
  } catch (const std::exception& e) {
    std::cerr << "placing orders failed: " << e.what() << "\n";
    failed = 1;
  }
  rt.wake();  // same process: no need to wait for the poll interval

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (shipped < orders && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  rt.stop();
  loop.join();

  long long kept = 0, ghost_jobs = 0;
  app << "SELECT COUNT(*) FROM orders", soci::into(kept);
  // Spool's own table, read here only to show that the rolled-back order left no job behind.
  const std::string ghost_key = "ship-order-" + std::to_string(orders + 1);
  app << "SELECT COUNT(*) FROM jobs WHERE unique_key = :k", soci::use(ghost_key), soci::into(ghost_jobs);
  std::cout << "shipped " << shipped << " of " << kept << " orders; 1 rolled back, " << ghost_jobs
            << " jobs of it\n";
  return !failed && shipped == orders && kept == orders && ghost_jobs == 0 ? 0 : 1;
}
