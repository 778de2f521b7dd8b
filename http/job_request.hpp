#pragma once
// Parsing of POST /api/v1/jobs bodies: JSON in, a validated new_job or the error to answer.
#include <boost/json/value.hpp>
#include <string>
#include <variant>

#include "jobs/job.hpp"
#include "jobs/steps.hpp"

namespace spool::http {

struct bad_input {
  unsigned status;  // 400 for malformed JSON or wrong types, 422 for bad values
  std::string message;
};

// `error_on_conflict`: where the request may ask for a 409 on a held unique key ("on_conflict":
// "error"); without it the field is refused. `force` ("force": true) lets a kind that no live node
// runs through; without it the field is refused.
// `step`, where the job is a step of a batch: its "name" and "needs" (refused elsewhere).
std::variant<jobs::new_job, bad_input> parse_job(const boost::json::value& v, jobs::time_point now,
                                                 bool* error_on_conflict = nullptr, bool* force = nullptr,
                                                 jobs::step_names* step = nullptr);
// The body as JSON: nothing but a bad_input for malformed or invalid UTF-8 or too deep input.
std::variant<boost::json::value, bad_input> parse_body(std::string_view body);

}  // namespace spool::http
