#include "kinds/ai/result_json.hpp"

#include <boost/json/parse.hpp>

#include "jobs/json.hpp"

namespace spool::kinds::ai {
namespace json = boost::json;

namespace {
// Stored JSON as a value; a row damaged by hand shows as its raw text rather than failing.
json::value embedded(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return ec ? json::value(text) : v;
}
}  // namespace

json::object to_json(const activity_result& r) {
  return {{"activity_id", r.activity_id},
          {"user_id", r.user_id},
          {"type", r.type},
          {"occurred_at", jobs::to_rfc3339(r.occurred_at)},
          {"analysis", embedded(r.analysis)},
          {"backend", r.backend},
          {"job_id", r.job_id},
          {"processed_at", jobs::to_rfc3339(r.processed_at)},
          {"revision", r.revision}};
}

json::object to_json(const profile_record& p) {
  return {{"user_id", p.user_id},
          {"profile", embedded(p.profile)},
          {"version", p.version},
          {"generated_at", jobs::to_rfc3339(p.generated_at)},
          {"source_count", p.source_count},
          {"source_revision", p.source_revision},
          {"backend", p.backend}};
}

}  // namespace spool::kinds::ai
