#include "jobs/validation.hpp"

#include <algorithm>
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
  if (job.max_attempts != 0)
    if (auto why = check_max_attempts(job.max_attempts)) return why;
  if (job.unique_key && (job.unique_key->empty() || job.unique_key->size() > 512))
    return "unique_key must be 1-512 bytes";
  if (job.unique_states == 0 || (job.unique_states & ~default_unique_states) != 0)
    return "unique_states must be a non-empty subset of scheduled, available, running, retrying";
  if (job.unique_for < duration::zero()) return "unique_for must be >= 0";
  if (!job.unique_key && (job.unique_states != default_unique_states || job.unique_for > duration::zero()))
    return "unique_states and unique_for need a unique key";
  if (job.depends_on.size() + job.needs.size() > max_parents)
    return "a job may depend on at most " + std::to_string(max_parents) + " jobs";
  for (auto id : job.depends_on)
    if (id <= 0) return "depends_on holds job ids (> 0), not " + std::to_string(id);
  return std::nullopt;
}

std::optional<std::string> check_max_attempts(std::int64_t n) {
  if (n < 1 || n > max_attempts_limit) return "max_attempts must be 1..1000, not " + std::to_string(n);
  return std::nullopt;
}

namespace {
std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}
}  // namespace

std::optional<rejection> admit(const new_job& job, const registry& kinds,
                               const std::vector<std::string>& queues) {
  if (auto why = check(job)) return rejection{"invalid_job", *why};
  if (std::find(queues.begin(), queues.end(), job.queue) == queues.end())
    return rejection{"unknown_queue", "queue '" + job.queue + "' is not configured (configured: " +
                                          joined(queues) +
                                          "); add it to `queues`, SPOOL_QUEUES or spool run --queue"};
  const auto* entry = kinds.find(job.kind);
  if (!entry)
    return rejection{"unknown_kind", "kind '" + job.kind + "' is not registered (registered: " +
                                         joined(kinds.kinds()) + ")"};
  if (entry->options.check_payload) {
    const auto payload = boost::json::parse(job.payload);  // check() made sure it parses
    if (auto why = entry->options.check_payload(payload.as_object()))
      return rejection{"invalid_payload", *why};
  }
  return std::nullopt;
}

}  // namespace spool::jobs
