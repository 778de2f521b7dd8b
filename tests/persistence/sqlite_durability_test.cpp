// What reaches the disk when (SQLite): an enqueue is acknowledged only once its commit synced the
// write-ahead log (synchronous=FULL), and so is an operator's action; claims and completions
// commit without a sync (a lost one only means a rerun); the relaxed mode syncs no enqueue. A wrapper around SQLite's own
// file layer, made the default for this process, counts the syncs of each file.
#define BOOST_TEST_MODULE sqlite_durability
#include <boost/test/unit_test.hpp>

#include <sqlite3.h>

#include <cstring>
#include <string>

#include "persistence/store.hpp"
#include "tests/support/temp_dir.hpp"

using namespace spool;
using namespace std::chrono_literals;

namespace {

int wal_syncs = 0;
int db_syncs = 0;
sqlite3_vfs* real_vfs = nullptr;

// A file of the real VFS, followed in memory by our counting header.
struct counted_file {
  sqlite3_file base;  // first: SQLite sees a sqlite3_file
  bool wal = false;
  sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};

counted_file* self(sqlite3_file* f) { return reinterpret_cast<counted_file*>(f); }

int x_close(sqlite3_file* f) { return self(f)->real()->pMethods->xClose(self(f)->real()); }
int x_read(sqlite3_file* f, void* b, int n, sqlite3_int64 o) {
  return self(f)->real()->pMethods->xRead(self(f)->real(), b, n, o);
}
int x_write(sqlite3_file* f, const void* b, int n, sqlite3_int64 o) {
  return self(f)->real()->pMethods->xWrite(self(f)->real(), b, n, o);
}
int x_truncate(sqlite3_file* f, sqlite3_int64 n) {
  return self(f)->real()->pMethods->xTruncate(self(f)->real(), n);
}
int x_sync(sqlite3_file* f, int flags) {
  ++(self(f)->wal ? wal_syncs : db_syncs);
  return self(f)->real()->pMethods->xSync(self(f)->real(), flags);
}
int x_size(sqlite3_file* f, sqlite3_int64* n) {
  return self(f)->real()->pMethods->xFileSize(self(f)->real(), n);
}
int x_lock(sqlite3_file* f, int l) { return self(f)->real()->pMethods->xLock(self(f)->real(), l); }
int x_unlock(sqlite3_file* f, int l) { return self(f)->real()->pMethods->xUnlock(self(f)->real(), l); }
int x_check(sqlite3_file* f, int* r) {
  return self(f)->real()->pMethods->xCheckReservedLock(self(f)->real(), r);
}
int x_control(sqlite3_file* f, int op, void* a) {
  return self(f)->real()->pMethods->xFileControl(self(f)->real(), op, a);
}
int x_sector(sqlite3_file* f) { return self(f)->real()->pMethods->xSectorSize(self(f)->real()); }
int x_caps(sqlite3_file* f) {
  return self(f)->real()->pMethods->xDeviceCharacteristics(self(f)->real());
}
int x_shm_map(sqlite3_file* f, int i, int sz, int ext, void volatile** p) {
  return self(f)->real()->pMethods->xShmMap(self(f)->real(), i, sz, ext, p);
}
int x_shm_lock(sqlite3_file* f, int off, int n, int flags) {
  return self(f)->real()->pMethods->xShmLock(self(f)->real(), off, n, flags);
}
void x_shm_barrier(sqlite3_file* f) { self(f)->real()->pMethods->xShmBarrier(self(f)->real()); }
int x_shm_unmap(sqlite3_file* f, int del) {
  return self(f)->real()->pMethods->xShmUnmap(self(f)->real(), del);
}
int x_fetch(sqlite3_file* f, sqlite3_int64 o, int n, void** p) {
  return self(f)->real()->pMethods->xFetch(self(f)->real(), o, n, p);
}
int x_unfetch(sqlite3_file* f, sqlite3_int64 o, void* p) {
  return self(f)->real()->pMethods->xUnfetch(self(f)->real(), o, p);
}

const sqlite3_io_methods counted_methods = {
    3,        x_close,     x_read,       x_write,        x_truncate,  x_sync,
    x_size,   x_lock,      x_unlock,     x_check,        x_control,   x_sector,
    x_caps,   x_shm_map,   x_shm_lock,   x_shm_barrier,  x_shm_unmap, x_fetch,
    x_unfetch};

int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out) {
  auto* mine = self(f);
  mine->base.pMethods = nullptr;  // until the real file is open: SQLite then skips xClose
  mine->wal = false;
  const int rc = real_vfs->xOpen(real_vfs, name, mine->real(), flags, out);
  if (rc != SQLITE_OK) return rc;
  mine->wal = (flags & SQLITE_OPEN_WAL) != 0;
  mine->base.pMethods = &counted_methods;
  return SQLITE_OK;
}

sqlite3_vfs counting_vfs;

// Makes the counting VFS the default for every connection this process opens.
struct install {
  install() {
    real_vfs = sqlite3_vfs_find(nullptr);
    counting_vfs = *real_vfs;
    counting_vfs.zName = "spool-counting";
    counting_vfs.szOsFile = static_cast<int>(sizeof(counted_file)) + real_vfs->szOsFile;
    counting_vfs.xOpen = x_open;
    sqlite3_vfs_register(&counting_vfs, 1);
  }
};
const install installed;

struct fixture {
  test::temp_dir dir;
  std::string url() const { return dir.db_url(); }
  std::vector<jobs::new_job> one() const { return {{.kind = "noop"}}; }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(an_acknowledged_enqueue_has_synced_the_log, fixture) {
  auto db = store::open(url());
  db->migrate();
  const int before = wal_syncs;
  BOOST_REQUIRE_EQUAL(db->insert(one(), jobs::now()).size(), 1u);
  BOOST_TEST(wal_syncs > before, "the enqueue's commit did not sync the write-ahead log");
}

BOOST_FIXTURE_TEST_CASE(claims_and_completions_commit_without_a_sync, fixture) {
  auto db = store::open(url());
  db->migrate();
  db->insert(one(), jobs::now());
  const int before = wal_syncs;
  const auto now = jobs::now();
  auto round = db->complete_and_claim({}, {.queue = "default", .limit = 10, .worker = "w",
                                           .now = now, .lease_until = now + 30s});
  BOOST_REQUIRE_EQUAL(round.claimed.size(), 1u);
  jobs::transition done;
  done.at = now;
  done.attempt = 1;
  const std::vector<jobs::completion> batch{{round.claimed[0].id, round.claimed[0].lease, done}};
  BOOST_TEST(db->complete(batch).empty());
  BOOST_TEST(wal_syncs == before, "a claim or completion waited for the disk");
  // The next durable enqueue syncs them along with itself.
  db->insert(one(), jobs::now());
  BOOST_TEST(wal_syncs > before);
}

BOOST_FIXTURE_TEST_CASE(a_relaxed_enqueue_does_not_wait_for_the_disk, fixture) {
  auto db = store::open(url(), {.relaxed_enqueue = true});
  db->migrate();
  db->insert(one(), jobs::now());  // the first write may sync the new log's header
  const int before = wal_syncs;
  for (int i = 0; i < 5; ++i) db->insert(one(), jobs::now());
  BOOST_TEST(wal_syncs == before);
}

BOOST_FIXTURE_TEST_CASE(an_operators_action_has_synced_the_log, fixture) {
  auto db = store::open(url(), {.relaxed_enqueue = true});
  db->migrate();
  const auto id = db->insert(one(), jobs::now()).front().id;  // may sync the new log's header
  const int before = wal_syncs;
  BOOST_TEST((db->cancel(id, jobs::now()) == store::cancel_result::cancelled));
  BOOST_TEST(wal_syncs > before, "the operator's cancel did not sync the write-ahead log");
}
