#include "jobs/validation.hpp"

#include <boost/json/parse.hpp>

#include "config/config.hpp"

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
  return std::nullopt;
}

}  // namespace spool::jobs
