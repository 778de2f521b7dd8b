#pragma once
// The job kinds a runtime runs.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <spool/job_context.hpp>
#include <spool/retry_policy.hpp>

namespace spool::jobs {

struct kind_options {
  retry_policy retry;
  duration timeout = std::chrono::minutes(5);
};

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
  // Policy for kinds without a handler here (a deploy may be rolling out).
  const kind_options& fallback() const { return fallback_; }

 private:
  std::map<std::string, entry, std::less<>> entries_;
  kind_options fallback_;
};

}  // namespace spool::jobs
