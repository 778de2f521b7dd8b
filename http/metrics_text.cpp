#include "http/metrics_text.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <spool/version.hpp>

#include "runtime/runtime.hpp"

namespace spool::http {

namespace {

void process_metrics(runtime::exposition& out) {
  long pages = 0, resident = 0;
  if (std::ifstream statm("/proc/self/statm"); statm >> pages >> resident) {
    out.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    out.sample("process_resident_memory_bytes", {}, static_cast<std::uint64_t>(resident * sysconf(_SC_PAGESIZE)));
  }
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const double cpu = u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  out.family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
  out.sample("process_cpu_seconds_total", {}, cpu);
  std::error_code ec;
  std::uint64_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++fds;
  out.family("process_open_fds", "gauge", "Number of open file descriptors.");
  out.sample("process_open_fds", {}, fds);
}

}  // namespace

std::string render_metrics(const runtime::runtime& rt, const store::stats& counts) {
  std::string text;
  text.reserve(16384);
  runtime::exposition out(text);
  spool::runtime::stats_of(rt).render(out);
  out.family("spool_jobs", "gauge", "Jobs in the database, by queue and state.");
  for (auto& [queue, states] : counts.queues)
    for (auto& [state, n] : states)
      out.sample("spool_jobs", {{"queue", queue}, {"state", state}}, static_cast<std::uint64_t>(n));
  out.family("spool_jobs_running", "gauge", "Jobs running in this process, by queue.");
  for (auto& q : rt.queue_infos())
    out.sample("spool_jobs_running", {{"queue", q.name}}, static_cast<std::uint64_t>(q.running));
  auto dead = counts.states.find("dead");
  out.family("spool_dead_letter_jobs", "gauge", "Jobs in the dead-letter queue.");
  out.sample("spool_dead_letter_jobs", {}, static_cast<std::uint64_t>(dead == counts.states.end() ? 0 : dead->second));
  out.family("spool_build_info", "gauge", "Build information.");
  out.sample("spool_build_info", {{"version", SPOOL_VERSION}}, std::uint64_t{1});
  process_metrics(out);
  return text;
}

}  // namespace spool::http
