#include "http/metrics_text.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <spool/version.hpp>

#include "runtime/runtime.hpp"

namespace spool::http {

namespace {

// Seconds since the epoch at which this process started: its start in clock ticks after boot
// (/proc/self/stat, field 22) plus the boot time (/proc/stat, btime).
std::optional<double> process_start_time() {
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  const auto comm_end = stat.rfind(')');  // the command name may hold spaces and parentheses
  if (comm_end == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(comm_end + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {}  // fields 3..22; field 22 is starttime
  std::ifstream proc_stat("/proc/stat");
  for (std::string line; std::getline(proc_stat, line);)
    if (line.rfind("btime ", 0) == 0)
      return std::stod(line.substr(6)) + std::stod(field) / static_cast<double>(sysconf(_SC_CLK_TCK));
  return std::nullopt;
}

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
  if (auto started = process_start_time()) {
    out.family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
    out.sample("process_start_time_seconds", {}, *started);
  }
}

void cluster_metrics(runtime::exposition& out, const cluster_view& c, double leader_ttl_s) {
  out.family("spool_jobs", "gauge", "Jobs in the database, by queue and state (exported by the leader).");
  for (auto& [queue, states] : c.counts.queues)
    for (auto& [state, n] : states)
      out.sample("spool_jobs", {{"queue", queue}, {"state", state}}, static_cast<std::uint64_t>(n));
  auto dead = c.counts.states.find("dead");
  out.family("spool_dead_letter_jobs", "gauge", "Jobs in the dead-letter queue (exported by the leader).");
  out.sample("spool_dead_letter_jobs", {}, static_cast<std::uint64_t>(dead == c.counts.states.end() ? 0 : dead->second));
  out.family("spool_queue_depth", "gauge", "Jobs due to run and not yet claimed, by queue (exported by the leader).");
  for (auto& [queue, states] : c.counts.queues) {
    auto available = states.find("available");
    out.sample("spool_queue_depth", {{"queue", queue}},
               static_cast<std::uint64_t>(available == states.end() ? 0 : available->second));
  }
  out.family("spool_queue_latency_seconds", "gauge",
             "How long the oldest due job of a queue has waited to be claimed; 0 when none waits "
             "(exported by the leader).");
  for (auto& [queue, states] : c.counts.queues) {
    auto oldest = c.counts.oldest_available.find(queue);
    const double age = oldest == c.counts.oldest_available.end()
                           ? 0.0
                           : std::max(0.0, std::chrono::duration<double>(c.now - oldest->second).count());
    out.sample("spool_queue_latency_seconds", {{"queue", queue}}, age);
  }
  out.family("spool_node_heartbeat_age_seconds", "gauge",
             "Seconds since each registered node's last heartbeat (exported by the leader).");
  for (auto& n : c.nodes)
    out.sample("spool_node_heartbeat_age_seconds", {{"node", n.id}},
               std::max(0.0, std::chrono::duration<double>(c.now - n.heartbeat_at).count()));
  if (!c.limits.empty()) {
    out.family("spool_limit_concurrency", "gauge",
               "Each concurrency limit's bound, per group (partition) (exported by the leader).");
    for (auto& u : c.limits)
      out.sample("spool_limit_concurrency", {{"limit", u.limit.name()}},
                 static_cast<std::uint64_t>(u.limit.concurrency));
    out.family("spool_limit_in_use", "gauge",
               "Jobs running that each concurrency limit counts, all partitions (exported by the leader).");
    for (auto& u : c.limits) {
      std::uint64_t n = 0;
      for (auto& [_, k] : u.running) n += static_cast<std::uint64_t>(k);
      out.sample("spool_limit_in_use", {{"limit", u.limit.name()}}, n);
    }
    out.family("spool_limit_waiting", "gauge",
               "Due jobs waiting that each concurrency limit counts, read up to 10000 (exported by the leader).");
    for (auto& u : c.limits)
      out.sample("spool_limit_waiting", {{"limit", u.limit.name()}}, static_cast<std::uint64_t>(u.waiting));
  }
  out.family("spool_node_heartbeat_timeout_seconds", "gauge",
             "A node whose heartbeat is older than this is taken for dead (leader_ttl_s).");
  out.sample("spool_node_heartbeat_timeout_seconds", {}, leader_ttl_s);
}

}  // namespace

cluster_view read_cluster_view(store::store& s, std::span<const jobs::concurrency_limit> limits) {
  const auto now = jobs::now();
  return {s.count(now), s.nodes(now), now, s.limit_usage(limits, now)};
}

std::string render_metrics(const runtime::runtime& rt, const cluster_view* cluster) {
  std::string text;
  text.reserve(16384);
  runtime::exposition out(text);
  spool::runtime::stats_of(rt).render(out);
  out.family("spool_jobs_running", "gauge", "Jobs running in this process, by queue.");
  for (auto& q : rt.queue_infos())
    out.sample("spool_jobs_running", {{"queue", q.name}}, static_cast<std::uint64_t>(q.running));
  out.family("spool_leader", "gauge", "1 on the node that leads the cluster's maintenance, else 0.");
  out.sample("spool_leader", {}, std::uint64_t{cluster ? 1u : 0u});
  if (cluster) cluster_metrics(out, *cluster, rt.settings().leader_ttl_s);
  out.family("spool_build_info", "gauge", "Build information.");
  out.sample("spool_build_info", {{"version", SPOOL_VERSION}}, std::uint64_t{1});
  process_metrics(out);
  return text;
}

}  // namespace spool::http
