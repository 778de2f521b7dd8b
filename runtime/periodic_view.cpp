#include "runtime/periodic_view.hpp"

#include <algorithm>
#include <boost/json/object.hpp>

#include "jobs/json.hpp"
#include "schedule/cron.hpp"

namespace spool::runtime {

boost::json::array periodic_to_json(const std::vector<config::periodic_settings>& schedules,
                                    const std::vector<store::periodic_row>& rows, jobs::time_point now) {
  boost::json::array out;
  for (const auto& p : schedules) {
    const store::periodic_row* row = nullptr;
    for (const auto& r : rows)
      if (r.name == p.name) row = &r;
    boost::json::object o{{"name", p.name},   {"cron", p.cron},   {"timezone", p.timezone},
                          {"kind", p.kind},   {"queue", p.queue}, {"catch_up", p.catch_up},
                          {"next_run", nullptr}, {"last_run", nullptr}, {"last_job_id", nullptr}};
    // The configuration was validated; a schedule that still fails to parse shows no next run.
    try {
      const auto cron = schedule::cron::parse(p.cron, p.timezone);
      if (auto next = cron.next(row ? std::max(now, row->last_tick) : now))
        o["next_run"] = jobs::to_rfc3339(*next);
    } catch (const std::exception&) {
    }
    if (row) {
      o["last_run"] = jobs::to_rfc3339(row->last_tick);
      if (row->last_job_id) o["last_job_id"] = *row->last_job_id;
    }
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace spool::runtime
