#pragma once
// The job search's filters, shared by GET /api/v1/jobs (query parameters), the DLQ's list and the
// bulk operations (a JSON body): state, kind, queue, unique_key, created_after/created_before and
// finished_after/finished_before (RFC 3339, each range [after, before)), error (text in an error).
#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"
#include "jobs/state.hpp"
#include "persistence/store.hpp"

namespace spool::http {

bool is_filter_key(std::string_view key);

// Sets `key` in `f`. `forced`: the endpoint's own state (the DLQ lists dead jobs only); a `state`
// that says otherwise is refused rather than obeyed. A bad value is a 422 invalid_parameter.
std::optional<response> apply_filter(store::list_filter& f, std::string_view key, const std::string& value,
                                     std::optional<jobs::state> forced = std::nullopt);

// Whether any filter is set (a bulk operation needs one, or "all": true).
bool any_filter(const store::list_filter& f);

}  // namespace spool::http
