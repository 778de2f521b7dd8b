#pragma once
// Completion handler for co_spawn that logs an escaped exception instead of losing it.
#include <exception>
#include <string_view>

#include "runtime/log.hpp"

namespace spool::runtime {

inline auto log_escape(std::string_view component) {
  return [component](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::error("coroutine_failed").kv("component", component).kv("error", ex.what());
    } catch (...) {
      log::error("coroutine_failed").kv("component", component).kv("error", "unknown exception");
    }
  };
}

}  // namespace spool::runtime
