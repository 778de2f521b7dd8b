#pragma once
// Public: <spool/job_context.hpp>.
#include <spool/job_context.hpp>
