// The backoff of jobs::retry_policy: exponential up to the cap, jittered within its band.
#include <boost/test/unit_test.hpp>
#include <random>

#include "jobs/retry_policy.hpp"

using namespace spool::jobs;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(backoff)

BOOST_AUTO_TEST_CASE(doubles_per_attempt_until_the_cap) {
  const retry_policy p{.base = 1s, .cap = 60s, .jitter = 0};
  BOOST_TEST(p.nominal_delay(1).count() == duration(1s).count());
  BOOST_TEST(p.nominal_delay(2).count() == duration(2s).count());
  BOOST_TEST(p.nominal_delay(3).count() == duration(4s).count());
  BOOST_TEST(p.nominal_delay(6).count() == duration(32s).count());
  BOOST_TEST(p.nominal_delay(7).count() == duration(60s).count());
  BOOST_TEST(p.nominal_delay(500).count() == duration(60s).count());  // no overflow
}

BOOST_AUTO_TEST_CASE(jitter_stays_within_its_band_and_is_seeded) {
  const retry_policy p{.base = 10s, .cap = 1h, .jitter = 0.2};
  std::mt19937_64 a(42), b(42);
  double lo = 1e18, hi = 0;
  for (int i = 0; i < 2000; ++i) {
    auto d = p.delay(3, a);
    BOOST_TEST(d.count() == p.delay(3, b).count());  // same seed, same delays
    lo = std::min(lo, double(d.count()));
    hi = std::max(hi, double(d.count()));
  }
  const double nominal = double(duration(40s).count());
  BOOST_TEST(lo >= nominal * 0.8);
  BOOST_TEST(hi <= nominal * 1.2);
  BOOST_TEST(hi - lo > nominal * 0.3);  // it really spreads
}

BOOST_AUTO_TEST_CASE(jitter_never_exceeds_the_cap) {
  const retry_policy p{.base = 1s, .cap = 5s, .jitter = 0.5};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1000; ++i) BOOST_TEST(p.delay(10, rng).count() <= duration(5s).count());
}

BOOST_AUTO_TEST_SUITE_END()
