#pragma once
// Public: <spool/retry_policy.hpp>.
#include <spool/retry_policy.hpp>
