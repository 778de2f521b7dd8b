#include "http/metrics_text.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fmt/format.h>
#include <fstream>

#include "runtime/runtime.hpp"

namespace spool::http {

namespace {

void process_metrics(std::string& out) {
  long pages = 0, resident = 0;
  if (std::ifstream statm("/proc/self/statm"); statm >> pages >> resident) {
    fmt::format_to(std::back_inserter(out),
                   "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                   "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {}\n",
                   resident * sysconf(_SC_PAGESIZE));
  }
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const double cpu = u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  fmt::format_to(std::back_inserter(out),
                 "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
                 "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {}\n",
                 cpu);
  std::error_code ec;
  std::size_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++fds;
  fmt::format_to(std::back_inserter(out),
                 "# HELP process_open_fds Number of open file descriptors.\n"
                 "# TYPE process_open_fds gauge\nprocess_open_fds {}\n",
                 fds);
}

}  // namespace

std::string render_metrics(const runtime::runtime& rt, const store::stats& counts) {
  std::string out;
  out.reserve(16384);
  rt.stats().render(out);
  out += "# HELP spool_jobs Jobs in the database, by queue and state.\n# TYPE spool_jobs gauge\n";
  for (auto& [queue, states] : counts.queues)
    for (auto& [state, n] : states)
      fmt::format_to(std::back_inserter(out), "spool_jobs{{queue=\"{}\",state=\"{}\"}} {}\n",
                     runtime::escape_label(queue), state, n);
  out += "# HELP spool_jobs_running Jobs running in this process, by queue.\n"
         "# TYPE spool_jobs_running gauge\n";
  for (auto& q : rt.queue_infos())
    fmt::format_to(std::back_inserter(out), "spool_jobs_running{{queue=\"{}\"}} {}\n",
                   runtime::escape_label(q.name), q.running);
  auto dead = counts.states.find("dead");
  fmt::format_to(std::back_inserter(out),
                 "# HELP spool_dead_letter_jobs Jobs in the dead-letter queue.\n"
                 "# TYPE spool_dead_letter_jobs gauge\nspool_dead_letter_jobs {}\n"
                 "# HELP spool_build_info Build information.\n# TYPE spool_build_info gauge\n"
                 "spool_build_info{{version=\"{}\"}} 1\n",
                 dead == counts.states.end() ? 0 : dead->second, SPOOL_VERSION);
  process_metrics(out);
  return out;
}

}  // namespace spool::http
