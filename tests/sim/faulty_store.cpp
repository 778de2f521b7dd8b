#include "tests/sim/faulty_store.hpp"

namespace spool::sim {

template <class Call, class Report>
auto faulty_store::faulty(const char* op, bool write, Call&& call, Report&& report) {
  if (w_.now() < outage_until_) {
    w_.note(owner_ + " fault: " + op + " fails: the database is out of reach");
    w_.count("faults injected: store call failed (outage)");
    throw spool::store::store_error(std::string(op) + ": injected outage (nothing applied)");
  }
  if (w_.chance(w_.faults.fail)) {
    w_.note(owner_ + " fault: " + op + " fails before reaching the database");
    w_.count("faults injected: store call failed");
    throw spool::store::store_error(std::string(op) + ": injected failure (nothing applied)");
  }
  auto result = [&] {
    try {
      return call();
    } catch (const spool::store::store_error& e) {
      seen_.failed_unprompted(op, e.what());
      throw;
    }
  }();
  report(result);
  if (write && w_.chance(w_.faults.reply_lost)) {
    w_.note(owner_ + " fault: " + op + " committed but its reply is lost");
    w_.count(std::string("faults injected: reply lost after ") + op);
    throw spool::store::store_error(std::string(op) + ": injected lost reply (applied)");
  }
  return result;
}

spool::store::insert_and_claim_result faulty_store::insert_and_claim(
    std::span<const jobs::new_job> batch, time_point now,
    std::span<const spool::store::claim_request> claims) {
  // One transaction: a failure applies none of it, a lost reply all of it.
  return faulty(
      "insert", true, [&] { return real_.insert_and_claim(batch, now, claims); },
      [&](const spool::store::insert_and_claim_result& r) {
        seen_.inserted(batch, r.inserted, now);
        for (std::size_t i = 0; i < claims.size(); ++i)
          seen_.claimed(claims[i].queue, claims[i].limit, claims[i].worker, claims[i].now,
                        claims[i].lease_until, r.claimed[i]);
      });
}

spool::store::round_result faulty_store::complete_and_claim(std::span<const jobs::completion> done,
                                                            const spool::store::claim_request& next) {
  // One transaction: a failure applies none of it, a lost reply all of it.
  return faulty(
      "round", true, [&] { return real_.complete_and_claim(done, next); },
      [&](const spool::store::round_result& r) {
        if (!done.empty()) seen_.completed(done, r.stale);
        // The applied completions' follow-ups were inserted in the same transaction.
        if (auto follow = spool::store::accepted_follow_ups(done, r.stale); !follow.empty())
          seen_.inserted(follow, r.follow_ups, spool::store::latest_at(done));
        if (next.limit > 0)
          seen_.claimed(next.queue, next.limit, next.worker, next.now, next.lease_until, r.claimed);
      });
}

void faulty_store::renew(std::span<const jobs::lease_id> leases, time_point until) {
  faulty(
      "renew", true,
      [&] {
        real_.renew(leases, until);
        return 0;
      },
      [&](int) { seen_.renewed(leases, until); });
}

std::vector<spool::store::expired_job> faulty_store::expired(time_point now, int limit) {
  return faulty(
      "expired", false, [&] { return real_.expired(now, limit); },
      [&](const auto& r) { seen_.listed_expired(now, limit, r); });
}

std::int64_t faulty_store::settle_pending(time_point now, int limit) {
  return faulty(
      "settle pending", true, [&] { return real_.settle_pending(now, limit); },
      [&](std::int64_t n) { seen_.settled_pending(now, n); });
}

}  // namespace spool::sim
