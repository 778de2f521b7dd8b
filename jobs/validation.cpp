#include "jobs/validation.hpp"

#include <boost/json/parse.hpp>

#include "config/config.hpp"
#include "jobs/unique.hpp"

namespace spool::jobs {

std::optional<std::string> check(const new_job& job) {
  if (job.kind.empty()) return "kind is missing";
  if (!config::valid_name(job.kind))
    return "kind '" + job.kind + "' is not a name (1-64 characters of A-Z a-z 0-9 _ - . :)";
  if (!config::valid_name(job.queue))
    return "queue '" + job.queue + "' is not a name (1-64 characters of A-Z a-z 0-9 _ - . :)";
  if (job.payload.size() > max_payload_bytes) return "payload is larger than 1 MiB";
  boost::system::error_code ec;
  auto v = boost::json::parse(job.payload, ec);
  if (ec) return "payload is not valid JSON: " + ec.message();
  if (!v.is_object()) return "payload must be a JSON object";
  if (job.max_attempts < 0) return "max_attempts must be >= 1";
  if (job.unique_key && (job.unique_key->empty() || job.unique_key->size() > 512))
    return "unique_key must be 1-512 bytes";
  if (job.unique_states == 0 || (job.unique_states & ~default_unique_states) != 0)
    return "unique_states must be a non-empty subset of scheduled, available, running, retrying";
  if (job.unique_for < duration::zero()) return "unique_for must be >= 0";
  if (!job.unique_key && (job.unique_states != default_unique_states || job.unique_for > duration::zero()))
    return "unique_states and unique_for need a unique key";
  return std::nullopt;
}

}  // namespace spool::jobs
