#include "persistence/database_url.hpp"

#include <libpq-fe.h>

#include <fmt/format.h>
#include <map>
#include <regex>
#include <string_view>

#include "persistence/store.hpp"

namespace spool::store {

backend backend_of(const std::string& url) {
  if (url.starts_with("sqlite:")) return backend::sqlite;
  if (url.starts_with("postgresql://") || url.starts_with("postgres://"))
    return backend::postgresql;
  throw store_error("unsupported database URL '" + redact(url) +
                    "' (expected sqlite:PATH or postgresql://USER:PASSWORD@HOST:PORT/DBNAME)");
}

location locate(const std::string& url) {
  if (backend_of(url) == backend::postgresql)
    return {backend::postgresql, conninfo(url), redact(url)};
  std::string path = url.substr(std::string_view("sqlite:").size());
  if (path.starts_with("//")) path.erase(0, 2);
  if (path.empty()) throw store_error("database URL '" + url + "' names no file");
  // Several connections (the store's, the AI kinds' results store, a test's) must see one
  // database: a private ":memory:" per connection would not.
  const bool memory = path == ":memory:" || (path.starts_with("file:") &&
                                             path.find("mode=memory") != std::string::npos);
  const std::string file = path == ":memory:" ? "file:spool-memory?mode=memory&cache=shared" : path;
  return {backend::sqlite, "db=\"" + file + "\" timeout=5", path, memory};
}

// libpq's keyword/value form of a URI or keyword/value string (SOCI mangles URIs), with TCP
// keepalives added unless given: a lost peer is noticed within about 30 s instead of never.
std::string conninfo(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (!options) {
    std::string why = error ? error : "out of memory";
    PQfreemem(error);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    throw store_error("invalid PostgreSQL URL '" + redact(url) + "': " + why);
  }
  std::map<std::string, std::string> given;
  for (auto* o = options; o->keyword; ++o)
    if (o->val) given[o->keyword] = o->val;
  PQconninfoFree(options);
  for (auto [key, value] : {std::pair{"keepalives_idle", "10"}, {"keepalives_interval", "5"},
                            {"keepalives_count", "3"}, {"tcp_user_timeout", "30000"}})
    given.emplace(key, value);
  std::string out;
  for (const auto& [key, value] : given) {
    std::string quoted;
    for (char c : value) {
      if (c == '\'' || c == '\\') quoted += '\\';
      quoted += c;
    }
    out += fmt::format("{}{}='{}'", out.empty() ? "" : " ", key, quoted);
  }
  return out;
}

std::string redact(const std::string& url) {
  static const std::regex uri_password(R"(^(postgres(?:ql)?://[^:@/]*:)[^@/]*@)");
  static const std::regex kv_password(R"((password\s*=\s*)('[^']*'|\S+))");
  return std::regex_replace(std::regex_replace(url, uri_password, "$1***@"), kv_password, "$1***");
}

}  // namespace spool::store
