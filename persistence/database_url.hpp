#pragma once
// What a database URL names, without opening it: "sqlite:PATH" (the embedded default) or
// "postgresql://user:pass@host:port/dbname" (a libpq URI or keyword/value string; "postgres://"
// too). In memory: "sqlite::memory:" is one database per process, shared by all its connections
// and gone with the last of them; "sqlite:file:NAME?mode=memory&cache=shared" names one (an
// SQLite URI filename: any of them works). Everything that opens a connection of its own (the stores, the LISTEN connection, the AI
// kinds' results store, tests and benchmarks) reads URLs through these.
#include <string>

namespace spool::store {

enum class backend { sqlite, postgresql };

// Throws store_error for a URL of neither kind.
backend backend_of(const std::string& url);

// Where a connection goes, in the forms its users need.
struct location {
  spool::store::backend backend = backend::sqlite;
  std::string connection;  // what SOCI is given: "db=PATH timeout=5", or libpq's keyword/value form
  std::string shown;       // for messages: the file, or the URL with its password masked
  bool in_memory = false;  // an SQLite database in memory: it cannot use WAL
};
// Throws store_error for an unsupported or invalid URL.
location locate(const std::string& url);

// The keyword/value connection string libpq (and SOCI) is given for a PostgreSQL URL, with TCP
// keepalives added unless given; throws store_error if the URL is invalid.
std::string conninfo(const std::string& url);
// The URL with its password masked, for messages and logs.
std::string redact(const std::string& url);

// The channel an enqueue NOTIFYs on PostgreSQL, with the queue's name as payload.
inline constexpr const char* notify_channel = "spool_jobs";

}  // namespace spool::store
