#pragma once
// Concurrency limits as plain code: which jobs a limit counts, the group a job falls in, and
// which of a claim's candidates may start. The store runs this inside the claim's transaction
// (persistence/sql_limits.cpp), after reading what runs now: the database is the only
// coordinator between nodes.
//
// A limit counts the running jobs of a kind, of a queue, or of a kind in a queue; with
// `partition_by` ("payload.user_id") it counts each value of that payload field apart: at most
// `concurrency` per user. A job that matches several limits starts only while all have room.
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spool::jobs {

struct concurrency_limit {
  std::string kind;          // empty: any kind
  std::string queue;         // empty: any queue
  int concurrency = 1;       // running at once, across every node sharing the database
  std::string partition_by;  // empty, or "payload.FIELD[.FIELD...]"

  // "kind:K", "queue:Q" or "kind:K,queue:Q", with "/partition_by" when partitioned: what
  // metrics, the API and logs call it.
  std::string name() const;
  bool matches(std::string_view job_kind, std::string_view job_queue) const;
  // Whether a claim from `queue` may meet jobs this limit counts.
  bool applies_to_queue(std::string_view claim_queue) const {
    return queue.empty() || queue == claim_queue;
  }
};

// Empty when `partition_by` is well formed ("payload." then dot-separated names of letters,
// digits, '_' and '-'), else what is wrong with it.
std::string partition_by_error(std::string_view partition_by);

// The value a partitioned limit groups `payload` by: the field's JSON scalar as text (a string
// without quotes), "" when the payload lacks it or is not JSON (all such jobs share one group).
std::string partition_value(std::string_view payload, std::string_view partition_by);

// A limit's group: its index among the limits in force, and the partition value ("" if none).
using limit_group = std::pair<std::size_t, std::string>;

// What runs now and what a claim may add: one per claim, filled with the running jobs' groups,
// then asked about each candidate in claim order.
class limit_ledger {
 public:
  explicit limit_ledger(std::span<const concurrency_limit> limits) : limits_(limits) {}

  // A job that runs now (read before the claim): counts against every limit it matches.
  void count_running(const limit_group& g, std::int64_t n) { used_[g] += n; }

  // Whether a job of this kind, queue and payload may start now; if so it is counted.
  bool admit(std::string_view kind, std::string_view queue, std::string_view payload);

  // The kinds no job of which may start from `queue`: an unpartitioned limit on the kind (and
  // this queue, or any queue) is full. The claim leaves them out when reading candidates.
  std::vector<std::string> full_kinds(std::string_view queue) const;
  // Whether taking `more` jobs could fill any limit: false when every limit would still have room
  // if all of them counted against it (and against one partition). Then no check is needed.
  bool could_bind(std::int64_t more) const;
  // Whether nothing may start from `queue` at all: a queue limit without kind is full.
  bool queue_full(std::string_view queue) const;

  std::int64_t used(const limit_group& g) const;
  std::span<const concurrency_limit> limits() const { return limits_; }

 private:
  bool full(std::size_t i, const std::string& partition) const;
  std::span<const concurrency_limit> limits_;
  std::map<limit_group, std::int64_t> used_;
};

}  // namespace spool::jobs
