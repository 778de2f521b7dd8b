#pragma once
// Public: <spool/registry.hpp>.
#include <spool/registry.hpp>
