#include "jobs/unique.hpp"

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace spool::jobs {
namespace json = boost::json;

bool holds_key(unsigned unique_states, duration unique_for, state s,
               std::optional<time_point> finalized_at, time_point now) {
  if (s == state::completed)
    return unique_for > duration::zero() && finalized_at && now < *finalized_at + unique_for;
  if (is_final(s)) return false;
  return (unique_states & unique_bit(s)) != 0;
}

std::optional<unsigned> parse_unique_states(std::string_view list) {
  unsigned bits = 0;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto name = list.substr(0, comma);
    const auto st = parse_state(name);
    if (!st || is_final(*st)) return std::nullopt;
    bits |= unique_bit(*st);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
    if (list.empty()) return std::nullopt;
  }
  if (bits == 0) return std::nullopt;
  return bits;
}

std::string unique_states_text(unsigned bits) {
  std::string out;
  for (auto s : {state::scheduled, state::available, state::running, state::retrying})
    if (bits & unique_bit(s)) out += (out.empty() ? "" : ",") + std::string(to_string(s));
  return out;
}

namespace {
void canonical(const json::value& v, std::string& out) {
  if (v.is_object()) {
    std::vector<const json::key_value_pair*> members;
    for (const auto& kv : v.get_object()) members.push_back(&kv);
    std::sort(members.begin(), members.end(),
              [](auto* a, auto* b) { return a->key() < b->key(); });
    out += '{';
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i) out += ',';
      out += json::serialize(json::string(members[i]->key()));
      out += ':';
      canonical(members[i]->value(), out);
    }
    out += '}';
  } else if (v.is_array()) {
    out += '[';
    bool first = true;
    for (const auto& e : v.get_array()) {
      if (!first) out += ',';
      first = false;
      canonical(e, out);
    }
    out += ']';
  } else {
    out += json::serialize(v);
  }
}
}  // namespace

std::string canonical_json(const json::value& v) {
  std::string out;
  canonical(v, out);
  return out;
}

std::string args_key(std::string_view kind, std::string_view queue, std::string_view payload) {
  boost::system::error_code ec;
  const auto v = json::parse(payload, ec);
  if (ec) throw std::invalid_argument("payload is not valid JSON: " + ec.message());
  std::string text(kind);
  text += '\0';
  text += queue;
  text += '\0';
  text += canonical_json(v);
  return "args:" + sha256_hex(text);
}

// FIPS 180-4, for keys that must not collide by accident; nothing here is secret.
std::string sha256_hex(std::string_view data) {
  static constexpr std::array<std::uint32_t, 64> k{
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
  std::array<std::uint32_t, 8> h{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::string msg(data);
  const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
  msg += static_cast<char>(0x80);
  while (msg.size() % 64 != 56) msg += '\0';
  for (int i = 7; i >= 0; --i) msg += static_cast<char>((bits >> (i * 8)) & 0xff);
  auto rotr = [](std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
  for (std::size_t chunk = 0; chunk < msg.size(); chunk += 64) {
    std::array<std::uint32_t, 64> w{};
    for (int i = 0; i < 16; ++i)
      for (int b = 0; b < 4; ++b)
        w[i] = (w[i] << 8) | static_cast<unsigned char>(msg[chunk + i * 4 + b]);
    for (int i = 16; i < 64; ++i) {
      const auto s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const auto s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    auto v = h;
    for (int i = 0; i < 64; ++i) {
      const auto s1 = rotr(v[4], 6) ^ rotr(v[4], 11) ^ rotr(v[4], 25);
      const auto ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
      const auto t1 = v[7] + s1 + ch + k[i] + w[i];
      const auto s0 = rotr(v[0], 2) ^ rotr(v[0], 13) ^ rotr(v[0], 22);
      const auto maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
      const auto t2 = s0 + maj;
      v = {t1 + t2, v[0], v[1], v[2], v[3] + t1, v[4], v[5], v[6]};
    }
    for (int i = 0; i < 8; ++i) h[i] += v[i];
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (auto word : h)
    for (int i = 28; i >= 0; i -= 4) out += hex[(word >> i) & 0xf];
  return out;
}

}  // namespace spool::jobs
