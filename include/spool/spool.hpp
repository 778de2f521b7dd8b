#pragma once
// Everything an application embedding Spool needs: the runtime, job kinds and their handlers,
// settings, errors, logging. Tests add <spool/testing.hpp>; enqueueing in the application's own
// transaction (a SOCI session) adds <spool/transactional.hpp>.
#include <spool/errors.hpp>
#include <spool/job.hpp>
#include <spool/job_context.hpp>
#include <spool/log.hpp>
#include <spool/outcome.hpp>
#include <spool/registry.hpp>
#include <spool/runtime.hpp>
#include <spool/settings.hpp>
#include <spool/version.hpp>
