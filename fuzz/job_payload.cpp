// Fuzz target: a POST /api/v1/jobs body -> http::parse_body and http::parse_job (which ends in
// jobs::check, the validation every enqueue passes), the batch form of POST /api/v1/jobs/batch,
// and the built-in AI kinds' payload parsers, which see a stored payload again when the job runs.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "http/job_request.hpp"
#include "jobs/json.hpp"
#include "kinds/ai/payload.hpp"
#include "jobs/validation.hpp"

namespace {

using namespace spool;
namespace json = boost::json;

const jobs::time_point now = jobs::time_point(std::chrono::seconds(1795824000));  // a fixed time

// A job that parse_job accepted must pass the checks again and be storable as it is.
void accepted(const jobs::new_job& j) {
  if (auto why = jobs::check(j)) std::abort();
  if (j.run_at) (void)jobs::to_rfc3339(*j.run_at);
  auto payload = json::parse(j.payload);  // validated JSON: throws (and so fails) if it is not
  const auto& o = payload.as_object();
  // When the job runs, its kind parses the payload again.
  (void)kinds::ai::parse_activity(o);
  (void)kinds::ai::parse_profile_request(o);
}

void one(const json::value& v) {
  auto job = http::parse_job(v, now);
  if (auto* bad = std::get_if<http::bad_input>(&job)) {
    if (bad->status != 400 && bad->status != 422) std::abort();
    return;
  }
  accepted(std::get<jobs::new_job>(job));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto parsed = http::parse_body(body);
  if (auto* bad = std::get_if<http::bad_input>(&parsed)) {
    if (bad->status != 400) std::abort();
    return 0;
  }
  const auto& v = std::get<json::value>(parsed);
  one(v);
  if (const auto* batch = v.if_array())
    for (const auto& item : *batch) one(item);
  // Any object is also a payload some job may carry.
  if (const auto* o = v.if_object()) {
    (void)kinds::ai::parse_activity(*o);
    (void)kinds::ai::parse_profile_request(*o);
  }
  return 0;
}
