#include "tests/e2e/workload.hpp"

#include <boost/json/serialize.hpp>

#include "tests/e2e/admin_http.hpp"

namespace spool::e2e {

namespace {

constexpr std::string_view worker_lost = "worker lost (lease expired)";

std::string body_for(job_sort s, std::mt19937_64& rng) {
  switch (s) {
    case job_sort::noop:
      return R"({"kind": "noop"})";
    case job_sort::sleep:
      return R"({"kind": "sleep", "payload": {"ms": )" + std::to_string(20 + rng() % 181) + "}}";
    case job_sort::fail_once:
      return R"({"kind": "fail", "payload": {"times": 1}})";
    case job_sort::exhaust:
      return R"({"kind": "fail", "payload": {"times": 99}, "max_attempts": 2})";
    case job_sort::permanent:
      return R"({"kind": "fail", "payload": {"times": 99, "permanent": true}})";
    case job_sort::cancel:
      return R"({"kind": "sleep", "payload": {"ms": 3000}})";
  }
  return {};
}

job_sort pick(std::mt19937_64& rng, bool failures) {
  if (!failures) return rng() % 2 ? job_sort::noop : job_sort::sleep;
  const auto r = rng() % 100;
  if (r < 35) return job_sort::noop;
  if (r < 65) return job_sort::sleep;
  if (r < 75) return job_sort::fail_once;
  if (r < 83) return job_sort::exhaust;
  if (r < 90) return job_sort::permanent;
  return job_sort::cancel;
}

}  // namespace

std::string_view name(job_sort s) {
  switch (s) {
    case job_sort::noop:
      return "noop";
    case job_sort::sleep:
      return "sleep";
    case job_sort::fail_once:
      return "fail_once";
    case job_sort::exhaust:
      return "exhaust";
    case job_sort::permanent:
      return "permanent";
    case job_sort::cancel:
      return "cancel";
  }
  return "?";
}

workload::workload(unsigned short port, ledger& book, workload_options options)
    : port_(port), book_(book), options_(options), rng_(options.seed), thread_([this] { run(); }) {}

workload::~workload() { stop(); }

void workload::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void workload::run() {
  while (!stop_) {
    const auto sort = pick(rng_, options_.failures);
    const auto reply = http_request(port_, "POST", "/api/v1/jobs", body_for(sort, rng_), 30s);
    if (!reply.answered()) {
      ++book_.unanswered;
      break;
    }
    if (reply.status != 201) {
      ++book_.refused;
    } else {
      const auto job = json_body(reply);
      ledger_entry e{job ? job->at("id").to_number<job_id>() : 0, sort, 0};
      if (sort == job_sort::cancel) {
        const auto cancel = http_request(
            port_, "POST", "/api/v1/jobs/" + std::to_string(e.id) + "/cancel", {}, 30s);
        e.cancel_status = cancel.status;
      }
      book_.jobs.push_back(e);
      if (sort == job_sort::cancel && e.cancel_status == 0) break;
    }
    std::this_thread::sleep_for(options_.pause);
  }
  ended_ = true;
}

std::string check_final(const ledger_entry& entry, const boost::json::object& job) {
  const std::string state(job.at("state").as_string());
  const auto attempt = job.at("attempt").to_number<int>();
  std::vector<std::string> own;  // errors other than a lost worker
  std::size_t errors = 0;
  for (auto& e : job.at("errors").as_array()) {
    ++errors;
    const std::string message(e.at("message").as_string());
    if (message != worker_lost) own.push_back(message);
  }
  auto wrong = [&](std::string what) {
    return std::string(name(entry.sort)) + " job " + std::to_string(entry.id) + ": " + what +
           " in " + boost::json::serialize(job);
  };
  auto all_diagnostic = [&] {
    for (auto& m : own)
      if (!m.starts_with("diagnostic failure")) return false;
    return true;
  };
  switch (entry.sort) {
    case job_sort::noop:
    case job_sort::sleep:
      if (state != "completed") return wrong("state " + state + ", expected completed");
      if (!own.empty()) return wrong("an error of its own");
      break;
    case job_sort::fail_once:
      if (state != "completed") return wrong("state " + state + ", expected completed");
      if (own.size() > 1 || (own.size() == 1 && own[0] != "diagnostic failure 1 of 1"))
        return wrong("unexpected errors");
      break;
    case job_sort::exhaust:
      if (state != "dead") return wrong("state " + state + ", expected dead");
      if (attempt != 2 || errors != 2) return wrong("not two failed attempts");
      if (!all_diagnostic()) return wrong("unexpected errors");
      break;
    case job_sort::permanent:
      if (state != "dead") return wrong("state " + state + ", expected dead");
      if (own.size() != 1 || !all_diagnostic()) return wrong("not one permanent failure");
      break;
    case job_sort::cancel:
      if (!own.empty()) return wrong("an error of its own");
      if (entry.cancel_status == 200 || entry.cancel_status == 202) {
        if (state != "cancelled")
          return wrong("state " + state + " although the cancel was acknowledged with " +
                       std::to_string(entry.cancel_status));
      } else if (entry.cancel_status == 409) {
        if (state != "completed") return wrong("state " + state + " after a 409 to its cancel");
      } else if (state != "completed" && state != "cancelled") {
        return wrong("state " + state + ", expected completed or cancelled");
      } else if (entry.cancel_status != 0) {
        return wrong("cancel answered " + std::to_string(entry.cancel_status));
      }
      break;
  }
  return {};
}

}  // namespace spool::e2e
