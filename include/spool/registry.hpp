#pragma once
// The job kinds a runtime runs.
#include <boost/json/fwd.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <spool/job_context.hpp>
#include <spool/retry_policy.hpp>
#include <spool/settings.hpp>

namespace spool::jobs {

// Checks a payload at enqueue time: why it is refused ("payload field 'x' ..."), or nothing.
using payload_check = std::function<std::optional<std::string>(const boost::json::object&)>;

struct kind_options {
  retry_policy retry;
  duration timeout = std::chrono::minutes(5);
  snooze_ceiling snoozes;
  // Optional: lets the CLI and the admin API refuse a bad payload before it is stored, instead of
  // the job failing when it runs.
  payload_check check_payload;
};

// `base` with the overrides of a `kinds.KIND` config entry applied.
kind_options with_settings(kind_options base, const config::kind_settings& overrides);

// The job kinds a runtime can run: name -> handler and per-kind policy.
class registry {
 public:
  struct entry {
    handler run;
    kind_options options;
  };

  void add(std::string kind, handler run, kind_options options = {});
  const entry* find(std::string_view kind) const;
  entry* find(std::string_view kind);
  std::vector<std::string> kinds() const;
  // The policy jobs of `kind` run under: its registered (or the fallback) options with the
  // settings' `kinds` overrides applied.
  kind_options effective(std::string_view kind, const config::settings& settings) const;
  // Policy for kinds without a handler here (a deploy may be rolling out).
  const kind_options& fallback() const { return fallback_; }

 private:
  std::map<std::string, entry, std::less<>> entries_;
  kind_options fallback_;
};

}  // namespace spool::jobs
