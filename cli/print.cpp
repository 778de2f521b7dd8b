#include "cli/print.hpp"

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "jobs/json.hpp"
#include "runtime/limits_view.hpp"

namespace spool::cli {
namespace json = boost::json;

namespace {
std::string when(const std::optional<jobs::time_point>& t) {
  return t ? jobs::to_rfc3339(*t) : std::string("-");
}
}  // namespace

void print_table(std::ostream& out, const std::vector<jobs::job>& list) {
  out << fmt::format("{:>10}  {:<10}  {:<24}  {:<12}  {:>7}  {}\n", "ID", "STATE", "KIND", "QUEUE",
                     "ATTEMPT", "WHEN");
  for (auto& j : list) {
    const auto& t = j.finalized_at ? j.finalized_at : j.run_at ? j.run_at : j.attempted_at;
    out << fmt::format("{:>10}  {:<10}  {:<24}  {:<12}  {:>7}  {}\n", j.id, jobs::to_string(j.st),
                       j.kind, j.queue, j.attempt, when(t));
  }
}

void print_job(std::ostream& out, const jobs::job& j, int max_attempts,
               const std::optional<std::string>& held_back) {
  out << fmt::format("id:           {}\n", j.id);
  out << fmt::format("kind:         {}\n", j.kind);
  out << fmt::format("queue:        {}\n", j.queue);
  out << fmt::format("state:        {}\n", jobs::to_string(j.st));
  out << fmt::format("priority:     {}\n", j.priority);
  out << fmt::format("attempt:      {} of {}\n", j.attempt, max_attempts);
  out << fmt::format("payload:      {}\n", j.payload);
  if (j.unique_key) out << fmt::format("unique_key:   {}\n", *j.unique_key);
  out << fmt::format("created_at:   {}\n", jobs::to_rfc3339(j.created_at));
  if (j.run_at) out << fmt::format("run_at:       {}\n", when(j.run_at));
  if (j.attempted_at) out << fmt::format("attempted_at: {}\n", when(j.attempted_at));
  if (j.finalized_at) out << fmt::format("finalized_at: {}\n", when(j.finalized_at));
  if (j.lease_until) out << fmt::format("lease_until:  {}\n", when(j.lease_until));
  if (!j.worker.empty()) out << fmt::format("worker:       {}\n", j.worker);
  if (!j.note.empty()) out << fmt::format("note:         {}\n", j.note);
  if (j.progress)
    out << fmt::format("progress:     {:.0f}%{}{} (at {})\n", j.progress->fraction * 100,
                       j.progress->note.empty() ? "" : " ", j.progress->note,
                       jobs::to_rfc3339(j.progress->at));
  if (!j.depends_on.empty()) {
    std::string parents;
    for (auto p : j.depends_on) parents += (parents.empty() ? "" : ", ") + std::to_string(p);
    out << fmt::format("depends_on:   {}\n", parents);
  }
  if (held_back) out << fmt::format("held_back:    {}\n", *held_back);
  if (j.result) out << fmt::format("result:       {}\n", *j.result);
  out << fmt::format("errors:       {}\n", j.errors.size());
  for (auto& e : j.errors)
    out << fmt::format("  attempt {} at {}: {}\n", e.attempt, jobs::to_rfc3339(e.at), e.message);
}

void print_json(std::ostream& out, const std::vector<jobs::job>& list,
                std::optional<jobs::job_id> next_cursor) {
  json::array a;
  for (auto& j : list) a.push_back(jobs::to_json(j));
  json::object o{{"jobs", std::move(a)}};
  o["next_cursor"] = next_cursor ? json::value(*next_cursor) : json::value(nullptr);
  out << jobs::to_text(o) << "\n";
}

void print_json(std::ostream& out, const jobs::job& j, const std::optional<std::string>& held_back) {
  auto o = jobs::to_json(j);
  if (held_back) o["held_back"] = *held_back;
  out << jobs::to_text(o) << "\n";
}

void print_stats(std::ostream& out, const store::stats& s, std::span<const store::limit_use> limits) {
  out << fmt::format("{:<16}", "QUEUE");
  for (auto& [state, _] : s.states) out << fmt::format("{:>11}", state);
  out << "\n";
  auto row = [&](const std::string& name, const std::map<std::string, std::int64_t>& counts) {
    out << fmt::format("{:<16}", name);
    for (auto& [state, _] : s.states) {
      auto it = counts.find(state);
      out << fmt::format("{:>11}", it == counts.end() ? 0 : it->second);
    }
    out << "\n";
  };
  for (auto& [q, counts] : s.queues) row(q, counts);
  row("(all)", s.states);
  if (limits.empty()) return;
  out << fmt::format("\n{:<40}{:>12}{:>10}{:>10}\n", "LIMIT", "CONCURRENCY", "RUNNING", "WAITING");
  for (auto& u : limits) {
    std::int64_t running = 0;
    for (auto& [_, n] : u.running) running += n;
    out << fmt::format("{:<40}{:>12}{:>10}{:>10}\n", u.limit.name(), u.limit.concurrency, running,
                       std::to_string(u.waiting) + (u.waiting_capped ? "+" : ""));
    if (!u.limit.partition_by.empty())
      for (auto& [value, n] : u.running)
        out << fmt::format("  {:<38}{:>12}{:>10}\n", u.limit.partition_by + " = " + value,
                           u.limit.concurrency, n);
  }
}

void print_stats_json(std::ostream& out, const store::stats& s, std::span<const store::limit_use> limits) {
  json::object states, queues;
  for (auto& [state, n] : s.states) states[state] = n;
  for (auto& [q, counts] : s.queues) {
    json::object o;
    for (auto& [state, n] : counts) o[state] = n;
    queues[q] = std::move(o);
  }
  out << jobs::to_text(json::object{{"states", std::move(states)},
                                    {"queues", std::move(queues)},
                                    {"limits", runtime::limits_to_json(limits)}})
      << "\n";
}

}  // namespace spool::cli
