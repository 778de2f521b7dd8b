#include "kinds/http/response_map.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cmath>

#include "kinds/http_client/retry_after.hpp"

namespace spool::kinds::http {
namespace json = boost::json;
using std::chrono::seconds;

namespace {

jobs::outcome snooze(double secs, seconds max_snooze) {
  // A zero wait would spin; one second is the smallest that means anything.
  const double capped = std::clamp(secs, 1.0, static_cast<double>(std::max(max_snooze, seconds(1)).count()));
  return jobs::outcome::snooze(std::chrono::duration_cast<jobs::duration>(std::chrono::duration<double>(capped)));
}

// The body's explicit outcome, if it is a JSON object that names one.
std::optional<jobs::outcome> explicit_outcome(const answer& a, const std::string& status_text,
                                              seconds max_snooze) {
  if (a.body.empty() || a.body.find('{') == std::string::npos) return std::nullopt;
  boost::system::error_code ec;
  const auto v = json::parse(a.body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  const auto* outcome = o.if_contains("outcome");
  if (!outcome) return std::nullopt;
  std::string error = status_text;
  if (const auto* e = o.if_contains("error"); e && e->is_string())
    error += ": " + std::string(e->get_string());
  const auto* name = outcome->if_string();
  if (name && *name == "retry") return jobs::outcome::error(error);
  if (name && *name == "discard") return jobs::outcome::permanent(error);
  if (name && *name == "snooze") {
    double delay = 1;
    if (const auto* d = o.if_contains("delay_s"); d && d->is_number()) delay = d->to_number<double>();
    if (!std::isfinite(delay)) delay = 1;
    return snooze(delay, max_snooze);
  }
  return jobs::outcome::error(status_text + " with an unknown outcome " + json::serialize(*outcome) +
                              " (known: retry, snooze, discard)");
}

}  // namespace

std::string excerpt(std::string_view body, std::size_t max) {
  if (body.size() <= max) return std::string(body);
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(body[cut]) & 0xC0) == 0x80) --cut;  // no split character
  return std::string(body.substr(0, cut)) + "...";
}

jobs::outcome map_answer(const answer& a, std::string_view url, std::chrono::system_clock::time_point now,
                         seconds max_snooze) {
  switch (a.got) {
    case answer::how::timeout:
      return jobs::outcome::error("no complete answer from " + std::string(url) + " in time" +
                                  (a.detail.empty() ? "" : " (" + a.detail + ")"));
    case answer::how::connect_failed:
      return jobs::outcome::error("cannot connect to " + std::string(url) + ": " + a.detail);
    case answer::how::network_failed:
      return jobs::outcome::error("connection to " + std::string(url) + " failed: " + a.detail);
    case answer::how::answered: break;
  }
  const std::string status_text = "HTTP " + std::to_string(a.status) + " from " + std::string(url);
  if (auto o = explicit_outcome(a, status_text, max_snooze)) return *o;
  const std::string with_body = a.body.empty() ? status_text : status_text + ": " + excerpt(a.body);
  if (a.status >= 200 && a.status <= 299) {
    // A JSON body is the job's result; any other body is not kept.
    boost::system::error_code ec;
    if (!a.body.empty()) json::parse(a.body, ec);
    return a.body.empty() || ec ? jobs::outcome::success() : jobs::outcome::success(a.body);
  }
  if ((a.status == 429 || a.status == 503) && a.retry_after)
    if (auto wait = http_client::parse_retry_after(*a.retry_after, now, max_snooze))
      return snooze(static_cast<double>(wait->count()), max_snooze);
  if (a.status == 429 || (a.status >= 500 && a.status <= 599)) return jobs::outcome::error(with_body);
  return jobs::outcome::permanent(with_body);
}

}  // namespace spool::kinds::http
