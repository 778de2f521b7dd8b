#include <spool/job_context.hpp>

#include <stdexcept>

#include "jobs/progress.hpp"
#include "jobs/validation.hpp"

namespace spool::jobs {

void job_context::enqueue(std::vector<new_job> jobs) {
  for (std::size_t i = 0; i < jobs.size(); ++i)
    if (auto why = check(jobs[i]))
      throw std::invalid_argument(jobs.size() == 1 ? "follow-up job: " + *why
                                                   : "follow-up job " + std::to_string(i) + ": " + *why);
  follow_ups_.insert(follow_ups_.end(), std::make_move_iterator(jobs.begin()),
                     std::make_move_iterator(jobs.end()));
}

void job_context::enqueue(new_job job) {
  std::vector<new_job> one;
  one.push_back(std::move(job));
  enqueue(std::move(one));
}

boost::asio::awaitable<std::vector<parent_result>> job_context::parent_results() const {
  if (!parents_ || !*parents_) co_return std::vector<parent_result>{};
  co_return co_await (*parents_)(job_.id);
}

void job_context::progress(double fraction, std::string_view note) {
  if (auto why = check_progress(fraction)) throw std::invalid_argument(*why);
  if (progress_ && *progress_) (*progress_)(job_, fraction, clip_progress_note(note));
}

}  // namespace spool::jobs
