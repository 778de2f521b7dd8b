#include "jobs/retry_policy.hpp"

#include <algorithm>
#include <cmath>

namespace spool::jobs {

duration retry_policy::nominal_delay(int attempt) const {
  const int exponent = std::clamp(attempt - 1, 0, 62);
  const double d = static_cast<double>(base.count()) * std::ldexp(1.0, exponent);
  const double capped = std::min(d, static_cast<double>(cap.count()));
  return duration(static_cast<std::int64_t>(capped));
}

duration retry_policy::delay(int attempt, std::mt19937_64& rng) const {
  const double nominal = static_cast<double>(nominal_delay(attempt).count());
  std::uniform_real_distribution<double> factor(1.0 - jitter, 1.0 + jitter);
  const double d = std::min(nominal * factor(rng), static_cast<double>(cap.count()));
  return duration(static_cast<std::int64_t>(std::max(d, 0.0)));
}

}  // namespace spool::jobs
