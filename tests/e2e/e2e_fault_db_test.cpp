// The database becomes unwritable under a running runtime: its filesystem is full, its files
// turn immutable, or another process holds SQLite's write lock for 10 s. Enqueues through the
// admin API then fail with a clear 503 naming the database problem; every job acknowledged
// before or during the fault is kept and runs; and once the fault is removed the same process
// accepts and runs jobs again, without a restart.
//
// A full filesystem needs a small one: the test mounts a tmpfs, which needs root (CAP_SYS_ADMIN).
// Read-only permissions do not stop a process that already has the files open (and root ignores
// them anyway), so the read-only case sets the immutable attribute (chattr +i), which does stop
// writes through open descriptors; it needs CAP_LINUX_IMMUTABLE and a filesystem that has the
// attribute. Where the machine allows neither, those cases print "SKIPPED: <why>" and ctest
// reports them as skipped.
#define BOOST_TEST_MODULE e2e_fault_db
#include <fcntl.h>
#include <linux/fs.h>
#include <sqlite3.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include "tests/e2e/admin_http.hpp"
#include "tests/e2e/sandbox.hpp"

using namespace spool::e2e;
namespace fs = std::filesystem;

namespace {

void skip(const std::string& why) {
  std::cout << "SKIPPED: " << why << std::endl;
  BOOST_TEST_MESSAGE("SKIPPED: " << why);
}

// A tmpfs of `size` mounted on `dir` for the test's lifetime.
class small_filesystem {
 public:
  small_filesystem(fs::path dir, const std::string& size) : dir_(std::move(dir)) {
    fs::create_directories(dir_);
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, ("size=" + size).c_str()) ==
        0)
      mounted_ = true;
    else
      why_ = std::string("mount -t tmpfs: ") + std::strerror(errno);
  }
  ~small_filesystem() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  small_filesystem(const small_filesystem&) = delete;
  small_filesystem& operator=(const small_filesystem&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& why_not() const { return why_; }
  const fs::path& dir() const { return dir_; }

  // Writes a file until the filesystem has no space left; returns the bytes it took.
  std::size_t fill() {
    const int fd =
        ::open((dir_ / "filler").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    BOOST_REQUIRE_MESSAGE(fd >= 0, "cannot create the filler: " << std::strerror(errno));
    const std::string chunk(4096, 'x');
    std::size_t total = 0;
    for (;;) {
      const auto n = ::write(fd, chunk.data(), chunk.size());
      if (n <= 0) break;
      total += static_cast<std::size_t>(n);
    }
    const int err = errno;
    ::close(fd);
    BOOST_REQUIRE_MESSAGE(err == ENOSPC, "filling stopped with " << std::strerror(err));
    return total;
  }
  void drain() { fs::remove(dir_ / "filler"); }

 private:
  fs::path dir_;
  bool mounted_ = false;
  std::string why_;
};

// Sets or clears the immutable attribute (chattr +i / -i); the error text on failure.
std::optional<std::string> set_immutable(const fs::path& file, bool on) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return "open " + file.string() + ": " + std::strerror(errno);
  int flags = 0;
  std::optional<std::string> failure;
  if (::ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) {
    failure = std::string("FS_IOC_GETFLAGS: ") + std::strerror(errno);
  } else {
    flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
    if (::ioctl(fd, FS_IOC_SETFLAGS, &flags) != 0)
      failure = std::string("chattr ") + (on ? "+i " : "-i ") + file.string() + ": " +
                std::strerror(errno);
  }
  ::close(fd);
  return failure;
}

// What the admin API acknowledged (201): the ledger the checks hold the runtime to.
struct ledger {
  std::vector<job_id> acknowledged;

  // POST /api/v1/jobs; a 201 goes into the ledger. Returns the reply.
  http_reply post(unsigned short port, const std::string& body) {
    auto reply = http_request(port, "POST", "/api/v1/jobs", body);
    if (reply.status == 201) {
      const auto job = json_body(reply);
      BOOST_REQUIRE_MESSAGE(job, "201 without a job: " << reply.body);
      acknowledged.push_back(int_field(*job, "id"));
    }
    return reply;
  }
  void post_ok(unsigned short port, const std::string& body) {
    const auto reply = post(port, body);
    BOOST_REQUIRE_MESSAGE(reply.status == 201, "POST " << body << ": " << describe(reply));
  }
};

// The 503 the API answers when the database refuses a write, with its message.
std::string expect_database_unavailable(const http_reply& reply) {
  BOOST_REQUIRE_MESSAGE(reply.status == 503, "expected 503, got " << describe(reply));
  const auto body = json_body(reply);
  BOOST_REQUIRE_MESSAGE(body && body->contains("error"), "503 body: " << reply.body);
  const auto& error = body->at("error").as_object();
  BOOST_TEST(string_field(error, "code") == "database_unavailable");
  return string_field(error, "message");
}

// Once the fault is gone, the same runtime accepts a job within `limit`.
void expect_recovery(ledger& book, unsigned short port, process& rt, steady::duration limit) {
  http_reply last;
  wait_until(
      [&] {
        last = book.post(port, R"({"kind": "noop"})");
        return last.status == 201;
      },
      limit, [&] { return "enqueue still fails after the fault was removed: " + describe(last); });
  BOOST_TEST(rt.running(), "the runtime did not survive the fault");
}

// Every acknowledged job reaches `completed` (they are all noop or sleep).
void expect_all_completed(sandbox& sb, unsigned short port, const ledger& book) {
  std::size_t done = 0;
  wait_until(
      [&] {
        for (; done < book.acknowledged.size(); ++done) {
          const auto reply =
              http_request(port, "GET", "/api/v1/jobs/" + std::to_string(book.acknowledged[done]));
          const auto job = json_body(reply);
          if (reply.status != 200 || !job || string_field(*job, "state") != "completed")
            return false;
        }
        return true;
      },
      60s,
      [&] {
        return "acknowledged job " + std::to_string(book.acknowledged[done]) +
               " did not complete: " + sb.stats_text() + "\n" + sb.runtimes_text();
      });
  const auto states = sb.states();
  for (auto& [state, n] : states)
    BOOST_TEST(
        n == (state == "completed" ? static_cast<std::int64_t>(book.acknowledged.size()) : 0),
        "state " << state << ": " << n << " (acknowledged: " << book.acknowledged.size() << ")");
}

const std::string fast_retries = R"("kinds": {"noop": {"retry_base_s": 0.05, "retry_cap_s": 0.2},
                                              "sleep": {"retry_base_s": 0.05, "retry_cap_s": 0.2}})";

}  // namespace

BOOST_AUTO_TEST_CASE(disk_full) {
  sandbox sb;
  small_filesystem small(sb.dir() / "small", "8m");
  if (!small.mounted())
    return skip("cannot mount a small filesystem here (" + small.why_not() + ")");
  sb.place_db_in(small.dir());
  sb.write_config(R"({"poll_interval_s": 0.2, )" + fast_retries + "}");
  auto rt = sb.start_runtime("run");
  const auto port = admin_port(*rt);
  ledger book;
  for (int i = 0; i < 20; ++i) book.post_ok(port, R"({"kind": "sleep", "payload": {"ms": 200}})");

  const auto filled = small.fill();
  BOOST_TEST_MESSAGE("filler took " << filled / 1024 << " KiB");
  // Jobs with large payloads make the database grow, until it cannot.
  const std::string big =
      R"({"kind": "noop", "payload": {"pad": ")" + std::string(100000, 'p') + "\"}}";
  http_reply refused;
  for (int i = 0; i < 200 && !refused.answered(); ++i) {
    auto reply = book.post(port, big);
    if (reply.status != 201) refused = reply;
  }
  const auto message = expect_database_unavailable(refused);
  BOOST_TEST(message.find("full") != std::string::npos, message);
  BOOST_TEST(message.find(sb.db_path().string()) != std::string::npos, message);
  BOOST_TEST_MESSAGE("while full: " << describe(refused) << "; acknowledged "
                                    << book.acknowledged.size());
  BOOST_TEST(rt->running());

  small.drain();
  expect_recovery(book, port, *rt, 30s);
  expect_all_completed(sb, port, book);
  sb.stop_runtime(*rt);
}

BOOST_AUTO_TEST_CASE(read_only) {
  sandbox sb;
  sb.write_config(R"({"poll_interval_s": 0.2, )" + fast_retries + "}");
  auto rt = sb.start_runtime("run");
  const auto port = admin_port(*rt);
  ledger book;
  for (int i = 0; i < 20; ++i) book.post_ok(port, R"({"kind": "sleep", "payload": {"ms": 200}})");

  // The database and its write-ahead log refuse writes, also through the runtime's open files.
  const std::vector<fs::path> files{sb.db_path(), fs::path(sb.db_path().string() + "-wal")};
  struct restore {
    const std::vector<fs::path>& files;
    ~restore() {
      for (auto& f : files) set_immutable(f, false);
    }
  } undo{files};
  for (auto& f : files)
    if (auto failure = set_immutable(f, true))
      return skip("cannot make the database immutable here (" + *failure + ")");

  http_reply refused;
  for (int i = 0; i < 50 && !refused.answered(); ++i) {
    auto reply = book.post(port, R"({"kind": "noop"})");
    if (reply.status != 201) refused = reply;
  }
  const auto message = expect_database_unavailable(refused);
  BOOST_TEST(message.find(sb.db_path().string()) != std::string::npos, message);
  BOOST_TEST_MESSAGE("while immutable: " << describe(refused) << "; acknowledged "
                                         << book.acknowledged.size());
  BOOST_TEST(rt->running());

  for (auto& f : files) BOOST_REQUIRE(!set_immutable(f, false));
  expect_recovery(book, port, *rt, 30s);
  expect_all_completed(sb, port, book);
  sb.stop_runtime(*rt);
}

BOOST_AUTO_TEST_CASE(write_lock_held_for_10_s) {
  sandbox sb;
  // Long leases and polls keep the runtime's own writes out of the locked window, so that the
  // enqueue below is the first write to wait for the lock.
  sb.write_config(R"({"poll_interval_s": 30, "lease_s": 60, )" + fast_retries + "}");
  auto rt = sb.start_runtime("run");
  const auto port = admin_port(*rt);
  ledger book;
  for (int i = 0; i < 20; ++i) book.post_ok(port, R"({"kind": "noop"})");
  // Jobs in flight across the fault: their completions must wait for the lock.
  std::vector<job_id> running;
  for (int i = 0; i < 5; ++i) {
    book.post_ok(port, R"({"kind": "sleep", "payload": {"ms": 2000}})");
    running.push_back(book.acknowledged.back());
  }
  for (auto id : running) sb.wait_for_state(id, "running", 30s);

  // Another process (this one) takes SQLite's write lock.
  sqlite3* other = nullptr;
  BOOST_REQUIRE(sqlite3_open_v2(sb.db_path().c_str(), &other, SQLITE_OPEN_READWRITE, nullptr) ==
                SQLITE_OK);
  struct closer {
    sqlite3* db;
    ~closer() { sqlite3_close_v2(db); }
  } close_other{other};
  sqlite3_busy_timeout(other, 10000);
  BOOST_REQUIRE_MESSAGE(
      sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK,
      sqlite3_errmsg(other));
  const auto locked_at = steady::now();

  const auto refused = book.post(port, R"({"kind": "noop"})");
  const auto waited = std::chrono::duration<double>(steady::now() - locked_at).count();
  const auto message = expect_database_unavailable(refused);
  BOOST_TEST(message.find("locked") != std::string::npos, message);
  BOOST_TEST_MESSAGE("under the lock: " << describe(refused) << " after " << waited << " s");
  BOOST_TEST(waited < 10.0, "the refusal came only after the lock was released");

  std::this_thread::sleep_until(locked_at + 10s);  // the fault lasts 10 s by definition
  BOOST_REQUIRE(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);

  expect_recovery(book, port, *rt, 30s);
  expect_all_completed(sb, port, book);
  sb.stop_runtime(*rt);
}
