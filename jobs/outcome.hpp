#pragma once
// Public: <spool/outcome.hpp>.
#include <spool/outcome.hpp>
