#pragma once
// What a database URL names, without opening it: "sqlite:PATH" (the embedded default) or
// "postgresql://user:pass@host:port/dbname" (a libpq URI or keyword/value string; "postgres://"
// too). Everything that opens a connection of its own (the stores, the LISTEN connection, the AI
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
