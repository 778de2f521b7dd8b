#pragma once
// What the API's resources share to answer: JSON bodies, errors, ids from the path, and store calls
// whose failure becomes a 503.
#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "http/message.hpp"
#include "persistence/db_executor.hpp"
#include "runtime/runtime.hpp"

namespace spool::http {

response json_response(unsigned status, const boost::json::value& v);

// A decimal integer, all of `s`.
std::optional<std::int64_t> to_int(std::string_view s);

// Runs f(store&) on a db thread; a database failure becomes a 503 answer.
template <class F>
boost::asio::awaitable<std::variant<std::invoke_result_t<F, store::store&>, response>> on_db(
    runtime::runtime& rt, F f) {
  using R = std::invoke_result_t<F, store::store&>;
  std::optional<R> value;
  std::string failure;
  try {
    value.emplace(co_await spool::runtime::db_of(rt).run(std::move(f)));
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!value) co_return error(503, "database_unavailable", failure);
  co_return std::move(*value);
}

}  // namespace spool::http
