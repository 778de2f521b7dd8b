#pragma once
// The payloads of activity_processing and profile_generation, validated field by field so that
// a malformed one fails permanently with the name of the field at fault.
#include <boost/json/object.hpp>
#include <string>
#include <variant>

#include "jobs/job.hpp"

namespace spool::kinds::ai {

inline constexpr std::size_t max_id_bytes = 128;
inline constexpr std::size_t max_type_bytes = 64;
inline constexpr std::size_t max_text_bytes = 64 * 1024;

struct activity {
  std::string user_id;
  std::string activity_id;
  std::string type;  // free-form: "note", "purchase", "workout", ...
  std::string text;
  jobs::time_point occurred_at;
};

struct payload_error {
  std::string field;
  std::string reason;
  std::string message() const { return "payload field '" + field + "' " + reason; }
};

// {"user_id","activity_id","type","text","occurred_at" (RFC 3339)}; unknown fields are errors too,
// so that a misspelt field does not go unnoticed.
std::variant<activity, payload_error> parse_activity(const boost::json::object& payload);

// {"user_id"}: returns the user id.
std::variant<std::string, payload_error> parse_profile_request(const boost::json::object& payload);

}  // namespace spool::kinds::ai
