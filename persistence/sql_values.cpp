#include "persistence/sql_values.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <fmt/format.h>
#include <iterator>

#include "persistence/time_codec.hpp"

namespace spool::store {

std::string id_array(std::span<const std::int64_t> ids, id_notation n) {
  const bool json = n == id_notation::json;
  std::string out(1, json ? '[' : '{');
  for (auto x : ids) fmt::format_to(std::back_inserter(out), "{}{}", out.size() > 1 ? "," : "", x);
  out.push_back(json ? ']' : '}');
  return out;
}

bool plain_success(const jobs::completion& c) {
  return c.change.next == jobs::transition::to::completed && c.change.note.empty() && !c.change.error &&
         c.change.result.empty();
}

std::string completions_json(std::span<const jobs::completion> batch, bool skip_plain_successes) {
  using to = jobs::transition::to;
  std::string out;
  out.reserve(batch.size() * 64);
  out.push_back('[');
  for (const auto& c : batch) {
    if (skip_plain_successes && plain_success(c)) continue;
    const auto& t = c.change;
    const bool ready = t.next == to::retry || t.next == to::requeue;
    fmt::format_to(std::back_inserter(out), "{}[{},{},{},{},{},", out.size() > 1 ? "," : "", c.id,
                   c.lease, static_cast<int>(t.next), t.attempt, to_us(t.at));
    if (ready) fmt::format_to(std::back_inserter(out), "{}", to_us(t.run_at));
    else out += "null";
    out += ',';
    out += t.note.empty() ? std::string("null") : boost::json::serialize(boost::json::string(t.note));
    if (t.error)
      fmt::format_to(std::back_inserter(out), ",{},{},{}", t.error->attempt, to_us(t.error->at),
                     boost::json::serialize(boost::json::string(t.error->message)));
    else if (!t.result.empty())
      out += ",null,null,null";
    if (!t.result.empty()) {  // checked JSON (jobs::check_result), written as it is
      out += ',';
      out += t.result;
    }
    out += ']';
  }
  out.push_back(']');
  return out;
}

}  // namespace spool::store

namespace spool::store {

std::string unique_holder_sql(std::string_view key, std::string_view now1, std::string_view now2) {
  // The state bits of jobs::unique_bit: scheduled 1, available 2, running 4, retrying 8; NULL
  // states are the default 15. Where a waiting job is, its run_at and attempt say which it is.
  return fmt::format(
      "SELECT u.job_id FROM unique_keys u JOIN jobs j ON j.id = u.job_id WHERE u.key = {0} AND ("
      "EXISTS (SELECT 1 FROM ready r WHERE r.id = u.job_id AND (COALESCE(j.unique_states, 15) & "
      "(CASE WHEN r.run_at <= {1} THEN 2 WHEN r.attempt = 0 THEN 1 ELSE 8 END)) <> 0) "
      "OR ((COALESCE(j.unique_states, 15) & 4) <> 0 AND EXISTS (SELECT 1 FROM running x "
      "WHERE x.id = u.job_id)) "
      "OR (COALESCE(j.unique_for, 0) > 0 AND EXISTS (SELECT 1 FROM finished f WHERE f.id = u.job_id "
      "AND f.state = 'completed' AND f.finalized_at + j.unique_for > {2})))",
      key, now1, now2);
}

}  // namespace spool::store
