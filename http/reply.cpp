#include "http/reply.hpp"

#include "jobs/json.hpp"

#include <boost/json/serialize.hpp>
#include <charconv>

namespace spool::http {
namespace json = boost::json;

namespace {

// Messages quote what the client sent (a path, an id), which may be any bytes; Boost.JSON writes
// strings as they are, so a byte that is not UTF-8 would make the answer invalid JSON. Each such
// byte becomes U+FFFD. (Found by fuzz/http_request.)
std::string valid_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(in[i]); };
  for (std::size_t i = 0; i < in.size();) {
    const unsigned char c = byte(i);
    std::size_t n = 0;              // continuation bytes
    unsigned char lo = 0x80, hi = 0xBF;  // range of the first continuation byte
    if (c < 0x80) n = 0;
    else if (c >= 0xC2 && c <= 0xDF) n = 1;
    else if (c >= 0xE0 && c <= 0xEF) n = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4) n = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else n = SIZE_MAX;
    bool ok = n != SIZE_MAX && i + n < in.size();
    for (std::size_t k = 1; ok && k <= n; ++k) {
      const unsigned char b = byte(i + k);
      ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    }
    if (ok) {
      out.append(in.substr(i, n + 1));
      i += n + 1;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace

response error(unsigned status, std::string_view code, std::string_view message) {
  response r;
  r.status = status;
  r.body = json::serialize(json::object{
      {"error", json::object{{"code", code}, {"message", valid_utf8(message)}}}});
  return r;
}

response json_response(unsigned status, const json::value& v) {
  response r;
  r.status = status;
  r.body = jobs::to_text(v);
  return r;
}

std::optional<std::int64_t> to_int(std::string_view s) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace spool::http
