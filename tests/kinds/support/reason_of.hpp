#pragma once
// The AI kinds' parsers answer std::variant<T, std::string>: a value, or why there is none.
#include <string>
#include <variant>

namespace spool::test {

// The reason `v` holds, or "" when it holds a value.
template <class T>
std::string reason_of(const std::variant<T, std::string>& v) {
  const auto* why = std::get_if<std::string>(&v);
  return why ? *why : "";
}

}  // namespace spool::test
