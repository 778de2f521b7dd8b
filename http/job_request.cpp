#include "http/job_request.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>

#include "jobs/json.hpp"
#include "jobs/unique.hpp"
#include "jobs/validation.hpp"

namespace spool::http {
namespace json = boost::json;

std::variant<json::value, bad_input> parse_body(std::string_view body) {
  boost::system::error_code ec;
  json::parse_options opts;
  opts.max_depth = 32;  // deep nesting is refused, not recursed into
  auto v = json::parse(body, ec, {}, opts);
  if (ec) return bad_input{400, "request body is not valid JSON: " + ec.message()};
  return v;
}

std::variant<jobs::new_job, bad_input> parse_job(const json::value& v, jobs::time_point now,
                                                 bool* error_on_conflict, bool* force,
                                                 jobs::step_names* step) {
  if (!v.is_object()) return bad_input{400, "a job must be a JSON object"};
  const auto& o = v.get_object();
  jobs::new_job j;
  auto type_error = [](std::string_view field, std::string_view want) {
    return bad_input{400, "field '" + std::string(field) + "' must be " + std::string(want)};
  };
  auto as_int = [](const json::value& x) -> std::optional<std::int64_t> {
    if (x.is_int64()) return x.get_int64();
    if (x.is_uint64()) return x.get_uint64() <= INT64_MAX ? std::optional<std::int64_t>(x.get_uint64()) : std::nullopt;
    return std::nullopt;
  };
  bool has_run_at = false, has_delay = false, unique_args = false;
  for (auto& [key, val] : o) {
    if (key == "kind") {
      if (!val.is_string()) return type_error(key, "a string");
      j.kind = val.get_string();
    } else if (key == "payload") {
      if (!val.is_object()) return type_error(key, "a JSON object");
      j.payload = json::serialize(val);
    } else if (key == "queue") {
      if (!val.is_string()) return type_error(key, "a string");
      j.queue = val.get_string();
    } else if (key == "priority") {
      if (!val.is_int64() && !val.is_uint64()) return type_error(key, "an integer");
      auto p = as_int(val);
      if (!p || *p < -1000000 || *p > 1000000)
        return bad_input{422, "field 'priority' must be between -1000000 and 1000000"};
      j.priority = static_cast<int>(*p);
    } else if (key == "max_attempts") {
      if (!val.is_int64() && !val.is_uint64()) return type_error(key, "an integer");
      auto m = as_int(val);
      if (!m) return bad_input{422, "field 'max_attempts' must be 1..1000"};
      if (auto why = jobs::check_max_attempts(*m)) return bad_input{422, "field " + *why};
      j.max_attempts = static_cast<int>(*m);
    } else if (key == "unique_key") {
      if (!val.is_string()) return type_error(key, "a string");
      j.unique_key = std::string(val.get_string());
    } else if (key == "unique_args") {
      if (!val.is_bool()) return type_error(key, "true or false");
      unique_args = val.get_bool();
    } else if (key == "unique_states") {
      if (!val.is_array()) return type_error(key, "an array of state names");
      std::string list;
      for (const auto& st : val.get_array()) {
        if (!st.is_string()) return type_error(key, "an array of state names");
        list += (list.empty() ? "" : ",") + std::string(st.get_string());
      }
      auto bits = jobs::parse_unique_states(list);
      if (!bits || list.find(',', 0) == 0)
        return bad_input{422, "field 'unique_states' must name some of scheduled, available, running, retrying"};
      j.unique_states = *bits;
    } else if (key == "unique_for_s") {
      if (!val.is_number()) return type_error(key, "a number");
      const double d = val.to_number<double>();
      if (!std::isfinite(d) || d < 0 || d > 10 * 365 * 86400.0)
        return bad_input{422, "field 'unique_for_s' must be between 0 and ten years"};
      j.unique_for = std::chrono::duration_cast<jobs::duration>(std::chrono::duration<double>(d));
    } else if (key == "on_conflict") {
      if (!val.is_string()) return type_error(key, "\"return\" or \"error\"");
      if (!error_on_conflict) return bad_input{400, "field 'on_conflict' is accepted by POST /api/v1/jobs only"};
      if (val.get_string() != "return" && val.get_string() != "error")
        return bad_input{422, "field 'on_conflict' must be \"return\" or \"error\""};
      *error_on_conflict = val.get_string() == "error";
    } else if (key == "force") {
      if (!val.is_bool()) return type_error(key, "true or false");
      if (!force) return bad_input{400, "field 'force' is accepted by POST /api/v1/jobs and /api/v1/jobs/batch only"};
      *force = val.get_bool();
    } else if (key == "run_at") {
      if (!val.is_string()) return type_error(key, "an RFC 3339 time string");
      j.run_at = jobs::parse_rfc3339(val.get_string());
      if (!j.run_at) return bad_input{422, "field 'run_at' is not an RFC 3339 time"};
      has_run_at = true;
    } else if (key == "delay_s") {
      if (!val.is_number()) return type_error(key, "a number");
      const double d = val.to_number<double>();
      if (!std::isfinite(d) || d < 0 || d > 10 * 365 * 86400.0)
        return bad_input{422, "field 'delay_s' must be between 0 and ten years"};
      j.run_at = now + std::chrono::duration_cast<jobs::duration>(std::chrono::duration<double>(d));
      has_delay = true;
    } else if (key == "depends_on") {
      if (!val.is_array()) return type_error(key, "an array of job ids");
      for (const auto& id : val.get_array()) {
        auto n = as_int(id);
        if (!n) return type_error(key, "an array of job ids");
        j.depends_on.push_back(*n);
      }
    } else if (key == "on_parent_failure") {
      if (!val.is_string() || (val.get_string() != "cancel" && val.get_string() != "run"))
        return bad_input{422, "field 'on_parent_failure' must be \"cancel\" or \"run\""};
      j.on_parent_failure = val.get_string() == "run" ? jobs::parent_failure::run : jobs::parent_failure::cancel;
    } else if (key == "name" || key == "needs") {
      if (!step) return bad_input{400, "field '" + std::string(key) + "' is accepted by POST /api/v1/jobs/batch only"};
      if (key == "name") {
        if (!val.is_string() || val.get_string().empty()) return type_error(key, "a non-empty string");
        step->name = val.get_string();
      } else {
        if (!val.is_array()) return type_error(key, "an array of step names");
        for (const auto& n : val.get_array()) {
          if (!n.is_string()) return type_error(key, "an array of step names");
          step->needs.emplace_back(n.get_string());
        }
      }
    } else {
      return bad_input{400, "unknown field '" + std::string(key) + "'"};
    }
  }
  const bool waits = !j.depends_on.empty() || (step && !step->needs.empty());
  if (waits && (has_run_at || has_delay))
    return bad_input{422, "a job that depends on others is due when they have completed: give no run_at or delay_s"};
  if (!o.contains("kind")) return bad_input{400, "field 'kind' is required"};
  if (has_run_at && has_delay) return bad_input{422, "give run_at or delay_s, not both"};
  if (unique_args) {
    if (j.unique_key) return bad_input{422, "give unique_key or unique_args, not both"};
    // The payload was re-serialized from parsed JSON above, so it parses.
    j.unique_key = jobs::args_key(j.kind, j.queue, j.payload);
  }
  if (auto why = jobs::check(j)) return bad_input{422, *why};
  return j;
}

}  // namespace spool::http
