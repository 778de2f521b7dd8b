#include "jobs/registry.hpp"

#include <stdexcept>

namespace spool::jobs {

void registry::add(std::string kind, handler run, kind_options options) {
  if (kind.empty()) throw std::invalid_argument("job kind must not be empty");
  if (!run) throw std::invalid_argument("handler for kind '" + kind + "' is empty");
  entries_[std::move(kind)] = entry{std::move(run), options};
}

const registry::entry* registry::find(std::string_view kind) const {
  auto it = entries_.find(kind);
  return it == entries_.end() ? nullptr : &it->second;
}

registry::entry* registry::find(std::string_view kind) {
  auto it = entries_.find(kind);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<std::string> registry::kinds() const {
  std::vector<std::string> out;
  for (auto& [name, _] : entries_) out.push_back(name);
  return out;
}

kind_options registry::effective(std::string_view kind, const config::settings& settings) const {
  const auto* e = find(kind);
  kind_options o = e ? e->options : fallback_;
  if (auto it = settings.kinds.find(std::string(kind)); it != settings.kinds.end())
    return with_settings(std::move(o), it->second);
  return o;
}

kind_options with_settings(kind_options o, const config::kind_settings& k) {
  auto seconds = [](double s) {
    return std::chrono::duration_cast<duration>(std::chrono::duration<double>(s));
  };
  if (k.retry_base_s) o.retry.base = seconds(*k.retry_base_s);
  if (k.retry_cap_s) o.retry.cap = seconds(*k.retry_cap_s);
  if (k.retry_jitter) o.retry.jitter = *k.retry_jitter;
  if (k.max_attempts) o.retry.max_attempts = *k.max_attempts;
  if (k.timeout_s) o.timeout = seconds(*k.timeout_s);
  if (k.max_snoozes) o.snoozes.max_snoozes = *k.max_snoozes;
  if (k.max_snooze_total_s) o.snoozes.max_total = seconds(*k.max_snooze_total_s);
  return o;
}

}  // namespace spool::jobs
