#include "runtime/core.hpp"

#include <unistd.h>

#include "runtime/producer.hpp"

namespace spool::runtime {

namespace {
jobs::duration seconds(double s) {
  return std::chrono::duration_cast<jobs::duration>(std::chrono::duration<double>(s));
}
}  // namespace

core::core(boost::asio::any_io_executor ex, config::settings s, jobs::registry kinds,
           store::db_executor& database, std::string worker)
    : executor(std::move(ex)),
      settings(std::move(s)),
      registry(std::move(kinds)),
      db(database),
      worker_id(std::move(worker)) {}

core::~core() = default;

jobs::duration core::lease() const { return seconds(settings.lease_s); }
jobs::duration core::poll_interval() const { return seconds(settings.poll_interval_s); }

jobs::kind_options core::options_for(std::string_view kind) const {
  const auto* entry = registry.find(kind);
  jobs::kind_options o = entry ? entry->options : registry.fallback();
  if (auto it = settings.kinds.find(std::string(kind)); it != settings.kinds.end()) {
    const auto& k = it->second;
    if (k.retry_base_s) o.retry.base = seconds(*k.retry_base_s);
    if (k.retry_cap_s) o.retry.cap = seconds(*k.retry_cap_s);
    if (k.retry_jitter) o.retry.jitter = *k.retry_jitter;
    if (k.max_attempts) o.retry.max_attempts = *k.max_attempts;
    if (k.timeout_s) o.timeout = seconds(*k.timeout_s);
  }
  return o;
}

void core::notify(std::string_view queue, jobs::time_point due) {
  if (auto it = producers.find(queue); it != producers.end()) it->second->notify(due);
}

std::mt19937_64& thread_rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

std::string make_worker_id() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::uniform_int_distribution<int> hex(0, 0xffff);
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%04x", hex(thread_rng()));
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + suffix;
}

}  // namespace spool::runtime
