#include "http/session.hpp"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace spool::http {

std::string random_session_id() {
  unsigned char bytes[32];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    const auto n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    got += static_cast<std::size_t>(n);
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * sizeof bytes);
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 0xF];
  }
  return out;
}

std::string session_table::open(clock::time_point now) {
  auto id = random_session_id();
  std::lock_guard lock(mutex_);
  std::erase_if(expiry_, [now](const auto& e) { return e.second <= now; });
  if (expiry_.size() >= max_) {
    auto soonest = std::min_element(expiry_.begin(), expiry_.end(),
                                    [](const auto& a, const auto& b) { return a.second < b.second; });
    expiry_.erase(soonest);
  }
  expiry_.emplace(id, now + ttl_);
  return id;
}

bool session_table::valid(std::string_view id, clock::time_point now) const {
  if (id.empty()) return false;
  std::lock_guard lock(mutex_);
  auto it = expiry_.find(std::string(id));
  return it != expiry_.end() && now < it->second;
}

void session_table::close(std::string_view id) {
  std::lock_guard lock(mutex_);
  expiry_.erase(std::string(id));
}

std::size_t session_table::size() const {
  std::lock_guard lock(mutex_);
  return expiry_.size();
}

std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto end = header.find(';');
    auto pair = header.substr(0, end);
    header = end == std::string_view::npos ? std::string_view{} : header.substr(end + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    while (!pair.empty() && pair.back() == ' ') pair.remove_suffix(1);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
  }
  return std::nullopt;
}

}  // namespace spool::http
