#include "tests/e2e/postgres_server.hpp"

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "tests/e2e/process.hpp"

namespace spool::e2e {

namespace {
constexpr const char* pg_bin = "/usr/lib/postgresql/15/bin";

}  // namespace

postgres_server::postgres_server() {
  if (!std::filesystem::exists(std::string(pg_bin) + "/pg_ctl")) {
    if (std::getenv("CI")) BOOST_FAIL("PostgreSQL 15 is not installed: CI must run these tests");
    std::fprintf(stderr, "skipped: PostgreSQL 15 is not installed (scripts/test installs it)\n");
    std::exit(77);
  }
  // spool_start_pg picks a free port and prints nothing; its variables are echoed back.
  const auto out = std::filesystem::temp_directory_path() / ("spool-pg-" + std::to_string(getpid()) + ".env");
  const std::string script = std::string("source '") + SPOOL_SOURCE_DIR +
                             "/scripts/lib/pg.sh' && spool_start_pg && echo \"$SPOOL_TEST_PG $SPOOL_PG_DIR\" > '" +
                             out.string() + "'";
  auto r = run("/bin/bash", {"-c", script},
               {std::filesystem::temp_directory_path(), out.string() + ".out", out.string() + ".err", {}}, 120s);
  BOOST_REQUIRE_MESSAGE(r.status == 0, "could not start PostgreSQL: " << r.err);
  std::istringstream in(read_file(out));
  in >> url_ >> dir_;
  std::filesystem::remove(out);
  std::filesystem::remove(out.string() + ".out");
  std::filesystem::remove(out.string() + ".err");
  BOOST_REQUIRE_MESSAGE(!url_.empty() && !dir_.empty(), "spool_start_pg printed nothing");
  auto colon = url_.rfind(':');
  port_ = url_.substr(colon + 1, url_.find('/', colon) - colon - 1);
}

postgres_server::~postgres_server() {
  if (dir_.empty()) return;
  try {
    pg_ctl("stop -m immediate");
  } catch (...) {
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void postgres_server::pg_ctl(const std::string& args) {
  // As root the server runs as postgres (it refuses root), from / (which postgres can read).
  const std::string cmd = std::string(pg_bin) + "/pg_ctl -D '" + dir_ + "/data' -l '" + dir_ +
                          "/server.log' -w " + args;
  const std::string as_owner = geteuid() == 0 ? "runuser -u postgres -- " + cmd : cmd;
  auto r = run("/bin/bash", {"-c", "cd / && " + as_owner},
               {"/", dir_ + "/pg_ctl.out", dir_ + "/pg_ctl.err", {}}, 60s);
  BOOST_REQUIRE_MESSAGE(r.status == 0, "pg_ctl " << args << " failed: " << r.err << r.out);
}

void postgres_server::stop() { pg_ctl("stop -m fast"); }

void postgres_server::start() {
  pg_ctl("start -o \"-c listen_addresses=127.0.0.1 -p " + port_ + " -c unix_socket_directories=" +
         dir_ + " -c fsync=off -c max_connections=200\"");
}

}  // namespace spool::e2e
