// Fuzz target: the decoding of rows the stores read back. The input becomes column values (any
// SQLite type: integers at the edges, reals, text, blobs, NULL) of the rows of a few jobs, placed
// in one or more of the state tables, with their error history, a lease, and the AI kinds'
// result and profile rows; all written with plain SQL into a real database migrated by the
// store, as a damaged or hand-edited database would hold them. Then every read of the stores runs
// on it (get, list by state, count, expired, next_due, cancel_requests, claim; find_result,
// find_profile, sources), and what it returns is rendered as the admin API and CLI render it.
// A store may refuse a row with store_error; anything else escaping, or a sanitizer report, fails.
#include <fuzzer/FuzzedDataProvider.h>
#include <sqlite3.h>

#include <boost/json/serialize.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>

#include "jobs/json.hpp"
#include "kinds/ai/result_json.hpp"
#include "kinds/ai/results_store.hpp"
#include "kinds/ai/schema.hpp"
#include "persistence/store.hpp"

namespace {

using namespace spool;
namespace json = boost::json;
using namespace std::chrono_literals;

struct fixture {
  std::string path;
  std::unique_ptr<store::store> job_store;
  std::unique_ptr<kinds::ai::results_store> results;
  sqlite3* raw = nullptr;

  fixture() {
    const std::filesystem::path base =
        std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    std::string dir = (base / "spool-fuzz-rows-XXXXXX").string();
    if (!mkdtemp(dir.data())) std::abort();
    path = dir + "/fuzz.db";
    job_store = store::open("sqlite:" + path, {.schemas = {kinds::ai::schema()}});
    job_store->migrate();
    results = kinds::ai::results_store::open("sqlite:" + path);
    if (sqlite3_open(path.c_str(), &raw) != SQLITE_OK) std::abort();
    sqlite3_busy_timeout(raw, 5000);
    exec("PRAGMA synchronous=OFF");
  }

  void exec(const char* sql) {
    if (sqlite3_exec(raw, sql, nullptr, nullptr, nullptr) != SQLITE_OK) std::abort();
  }
};

fixture& the_fixture() {
  static fixture* f = new fixture;  // kept for the whole run, like a process's store
  return *f;
}

// One column value of any SQLite type; integers favour the edges of the types they decode into.
void bind_any(sqlite3_stmt* st, int col, FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 9)) {
    case 0: sqlite3_bind_null(st, col); break;
    case 1: sqlite3_bind_double(st, col, in.ConsumeFloatingPoint<double>()); break;
    case 2: {
      auto bytes = in.ConsumeBytes<std::uint8_t>(in.ConsumeIntegralInRange(0, 64));
      sqlite3_bind_blob(st, col, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
      break;
    }
    case 3: {
      auto text = in.ConsumeRandomLengthString(256);
      sqlite3_bind_text(st, col, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
      break;
    }
    case 4: {
      constexpr std::int64_t edges[] = {std::numeric_limits<std::int64_t>::min(),
                                        std::numeric_limits<std::int64_t>::max(),
                                        std::numeric_limits<std::int32_t>::min(),
                                        std::numeric_limits<std::int32_t>::max(),
                                        std::int64_t{std::numeric_limits<std::int32_t>::max()} + 1,
                                        -1,
                                        0};
      sqlite3_bind_int64(st, col, in.PickValueInArray(edges));
      break;
    }
    default: sqlite3_bind_int64(st, col, in.ConsumeIntegral<std::int64_t>()); break;
  }
}

// Inserts one row, every column from the input except those given; a row the schema refuses
// (NOT NULL, a duplicate key) is simply not there.
void insert(sqlite3* db, const char* sql, int columns, FuzzedDataProvider& in,
            std::initializer_list<std::pair<int, std::int64_t>> fixed = {}) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) std::abort();
  for (int col = 1; col <= columns; ++col) {
    bool done = false;
    for (auto [c, v] : fixed)
      if (c == col) {
        sqlite3_bind_int64(st, col, v);
        done = true;
      }
    if (!done) bind_any(st, col, in);
  }
  (void)sqlite3_step(st);
  sqlite3_finalize(st);
}

void write_rows(fixture& f, FuzzedDataProvider& in) {
  f.exec("BEGIN");
  for (auto table : {"jobs", "ready", "running", "leases", "finished", "dead_letter_jobs",
                     "job_errors", "unique_keys", "cancel_requests", "activity_results", "profiles",
                     "job_dependencies", "job_results"})
    f.exec(("DELETE FROM " + std::string(table)).c_str());
  const int n = in.ConsumeIntegralInRange(1, 3);
  for (std::int64_t id = 1; id <= n; ++id) {
    insert(f.raw,
           "INSERT INTO jobs (id, kind, queue, payload, priority, max_attempts, unique_key, "
           "created_at, unique_states, unique_for, on_parent_failure) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
           11, in, {{1, id}});
    // Where the job is: normally one state table, but a damaged database may say otherwise.
    const unsigned where = in.ConsumeIntegral<std::uint8_t>();
    if (where & 1)
      insert(f.raw, "INSERT INTO ready (queue, priority, run_at, id, attempt, waiting) "
             "VALUES (?1, ?2, ?3, ?4, ?5, ?6)", 6, in, {{4, id}});
    if (where & 2) {
      insert(f.raw, "INSERT INTO leases VALUES (?1, ?2, ?3, ?4)", 4, in, {{1, id}});
      insert(f.raw, "INSERT INTO running (id, queue, priority, attempt, lease_id, attempted_at, "
             "due_at, progress, progress_note, progress_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
             10, in, {{1, id}, {5, id}});
    }
    if (where & 4)
      insert(f.raw, "INSERT INTO finished VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", 8, in, {{1, id}});
    if (where & 8)
      insert(f.raw, "INSERT INTO dead_letter_jobs VALUES (?1, ?2, ?3, ?4, ?5, ?6)", 6, in, {{1, id}});
    if (where & 16) insert(f.raw, "INSERT INTO cancel_requests VALUES (?1, ?2)", 2, in, {{1, id}});
    if (where & 32) insert(f.raw, "INSERT INTO unique_keys VALUES (?1, ?2)", 2, in, {{2, id}});
    if (where & 64) insert(f.raw, "INSERT INTO job_dependencies VALUES (?1, ?2)", 2, in, {{2, id}});
    if (where & 128) insert(f.raw, "INSERT INTO job_results VALUES (?1, ?2)", 2, in, {{1, id}});
    for (std::int64_t seq = 1, errors = in.ConsumeIntegralInRange(0, 2); seq <= errors; ++seq)
      insert(f.raw, "INSERT INTO job_errors VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", 7, in, {{1, id}, {2, seq}});
  }
  insert(f.raw, "INSERT INTO activity_results VALUES ('a', 'u', ?1, ?2, ?3, ?4, ?5, ?6, ?7)", 7, in);
  insert(f.raw, "INSERT INTO profiles VALUES ('u', ?1, ?2, ?3, ?4, ?5, ?6)", 6, in);
  f.exec("COMMIT");
}

void render(const jobs::job& j) { (void)json::serialize(jobs::to_json(j)); }

// Runs a read; a row the store cannot decode is reported as store_error, which is fine.
template <class F>
void read(F f) {
  try {
    f();
  } catch (const store::store_error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& f = the_fixture();
  FuzzedDataProvider in(data, size);
  write_rows(f, in);
  const auto now = jobs::time_point(std::chrono::seconds(1795824000));  // a fixed time
  auto& s = *f.job_store;
  for (jobs::job_id id = 1; id <= 3; ++id)
    read([&] {
      if (auto j = s.get(id, now)) render(*j);
    });
  read([&] {
    for (auto& j : s.list({}, now)) render(j);
  });
  for (auto st : {jobs::state::scheduled, jobs::state::available, jobs::state::running,
                  jobs::state::retrying, jobs::state::completed, jobs::state::cancelled,
                  jobs::state::dead, jobs::state::pending})
    read([&] {
      store::list_filter filter;
      filter.state = st;
      for (auto& j : s.list(filter, now)) render(j);
    });
  read([&] { (void)s.count(now); });
  read([&] { (void)s.expired(now, 10); });
  read([&] { (void)s.next_due("default", now); });
  for (jobs::job_id id = 1; id <= 3; ++id) read([&] { (void)s.parent_results(id); });
  read([&] { (void)s.cancel_requests(); });
  read([&] {
    for (auto& c : s.claim("default", 10, "fuzz-worker", now, now + 30s))
      (void)jobs::to_rfc3339(c.run_at), (void)jobs::to_rfc3339(c.created_at);
  });
  read([&] {
    if (auto r = f.results->find_result("a")) (void)json::serialize(kinds::ai::to_json(*r));
  });
  read([&] {
    if (auto p = f.results->find_profile("u")) (void)json::serialize(kinds::ai::to_json(*p));
  });
  read([&] { (void)f.results->sources("u", 50); });
  return 0;
}
