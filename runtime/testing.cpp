#include <spool/testing.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <random>
#include <stdexcept>

#include "persistence/db_executor.hpp"
#include "persistence/store.hpp"
#include "runtime/runtime.hpp"

namespace spool::testing {
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir() {
  std::random_device rd;
  for (int i = 0; i < 100; ++i) {
    auto p = fs::temp_directory_path() / ("spool-test-" + std::to_string(rd()));
    if (fs::create_directory(p)) return p;
  }
  throw std::runtime_error("spool::testing: cannot create a temporary directory");
}

std::unique_ptr<store::store> open_store(const config::settings& s) {
  auto st = store::open(s.db, {});
  st->migrate();
  return st;
}

}  // namespace

test_runtime::test_runtime(jobs::registry kinds, config::settings settings)
    : dir_(fresh_dir()), settings_(std::move(settings)), kinds_(std::move(kinds)) {
  settings_.db = "sqlite:" + (dir_ / "spool.db").string();
  settings_.http = "off";
  settings_.workers = 1;
  settings_.poll_interval_s = std::min(settings_.poll_interval_s, 0.05);
  config::validate(settings_);
  open_store(settings_);
}

test_runtime::~test_runtime() {
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

std::vector<jobs::enqueue_result> test_runtime::enqueue(std::vector<jobs::new_job> batch) {
  asio::io_context ioc;
  runtime::runtime rt(ioc.get_executor(), settings_, kinds_);
  std::vector<jobs::enqueue_result> out;
  std::exception_ptr failed;
  asio::co_spawn(ioc, rt.enqueue(std::move(batch)), [&](std::exception_ptr e, auto r) {
    failed = e;
    out = std::move(r);
  });
  ioc.run();
  if (failed) std::rethrow_exception(failed);
  return out;
}

std::uint64_t test_runtime::drain(std::chrono::milliseconds limit) {
  asio::io_context ioc;
  runtime::runtime rt(ioc.get_executor(), settings_, kinds_);
  std::exception_ptr failed;
  bool timed_out = false;
  asio::co_spawn(ioc, rt.run(), [&](std::exception_ptr e) {
    if (e && !failed) failed = e;
  });
  // Done when no job is due and none is running, twice in a row: a job that just finished may
  // have enqueued another that its producer has not claimed yet.
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        asio::steady_timer t(co_await asio::this_coro::executor);
        int idle = 0;
        while (idle < 2) {
          t.expires_after(std::chrono::milliseconds(5));
          co_await t.async_wait(asio::use_awaitable);
          auto counts = co_await runtime::db_of(rt).run(
              [](store::store& s) { return s.count(jobs::now()); });
          const auto busy = counts.states["available"] + counts.states["running"];
          idle = busy == 0 && rt.in_flight() == 0 ? idle + 1 : 0;
          if (std::chrono::steady_clock::now() > deadline) {
            timed_out = true;
            break;
          }
        }
        rt.stop();
      },
      [&](std::exception_ptr e) {
        if (e && !failed) failed = e;
        rt.stop();
      });
  ioc.run();
  if (failed) std::rethrow_exception(failed);
  if (timed_out) throw std::runtime_error("spool::testing::drain: jobs still due or running");
  return rt.committed();
}

std::vector<job_record> test_runtime::jobs(std::string_view kind) const {
  auto st = open_store(settings_);
  std::vector<job_record> out;
  store::list_filter f;
  if (!kind.empty()) f.kind = std::string(kind);
  f.limit = 1000;
  for (;;) {
    auto page = st->list(f, jobs::now());
    for (auto& j : page) {
      auto full = st->get(j.id, jobs::now());  // a listing leaves the error history out
      const auto& errors = full ? full->errors : j.errors;
      out.push_back({j.id, j.kind, j.queue, j.payload, std::string(jobs::to_string(j.st)),
                     j.attempt, errors.empty() ? std::string() : errors.back().message});
    }
    if (static_cast<int>(page.size()) < f.limit) break;
    f.before = page.back().id;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace spool::testing
