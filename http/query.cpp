#include "http/query.hpp"

namespace spool::http {

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::optional<target> parse_target(std::string_view raw) {
  if (raw.empty() || raw.front() != '/') return std::nullopt;
  target t;
  const auto q = raw.find('?');
  std::string_view path = raw.substr(0, q);
  while (!path.empty()) {
    path.remove_prefix(1);  // the '/'
    const auto end = path.find('/');
    auto seg = percent_decode(path.substr(0, end));
    if (!seg) return std::nullopt;
    if (!seg->empty()) t.segments.push_back(std::move(*seg));
    path = end == std::string_view::npos ? std::string_view{} : path.substr(end);
  }
  if (q != std::string_view::npos) {
    std::string_view rest = raw.substr(q + 1);
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const auto pair = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
      if (pair.empty()) continue;
      const auto eq = pair.find('=');
      auto key = percent_decode(pair.substr(0, eq));
      auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
      if (!key || !value) return std::nullopt;
      t.query[*key] = *value;
    }
  }
  return t;
}

}  // namespace spool::http
