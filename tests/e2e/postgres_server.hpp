#pragma once
// A private PostgreSQL server for one e2e test, started with scripts/lib/pg.sh, that the test may
// stop and start again without disturbing other tests running in parallel.
#include <string>

namespace spool::e2e {

class postgres_server {
 public:
  postgres_server();  // fails the test (or skips it outside CI) if it cannot start one
  ~postgres_server();
  postgres_server(const postgres_server&) = delete;
  postgres_server& operator=(const postgres_server&) = delete;

  // postgresql://postgres@127.0.0.1:PORT/spool_test
  const std::string& url() const { return url_; }
  void stop();   // fast shutdown: clients are disconnected
  void start();  // on the same port and data directory

 private:
  void pg_ctl(const std::string& args);
  std::string url_, dir_, port_;
};

}  // namespace spool::e2e
