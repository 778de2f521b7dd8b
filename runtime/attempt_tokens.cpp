#include "runtime/attempt_tokens.hpp"

#include <sys/random.h>

#include <stdexcept>

namespace spool::runtime {

std::string attempt_tokens::issue(const jobs::claimed_job& job) {
  unsigned char bytes[24];  // 192 bits from the kernel's CSPRNG
  if (getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes))
    throw std::runtime_error("no randomness for an attempt token");
  static constexpr char hex[] = "0123456789abcdef";
  std::string token;
  for (auto b : bytes) {
    token += hex[b >> 4];
    token += hex[b & 15];
  }
  std::lock_guard lock(mutex_);
  live_.emplace(token, job);
  return token;
}

void attempt_tokens::revoke(const std::string& token) {
  std::lock_guard lock(mutex_);
  auto it = live_.find(token);
  if (it == live_.end()) return;
  progress_.forget(it->second.id);
  live_.erase(it);
}

bool attempt_tokens::report(std::string_view token, jobs::job_id id, double fraction, std::string note) {
  std::lock_guard lock(mutex_);
  auto it = live_.find(std::string(token));
  if (it == live_.end() || it->second.id != id) return false;
  progress_.report(it->second, fraction, std::move(note));
  return true;
}

}  // namespace spool::runtime
