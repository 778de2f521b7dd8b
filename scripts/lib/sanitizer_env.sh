# shellcheck shell=bash
# Sourced helper: the sanitizers' run-time options, exported so that every process a test starts
# inherits them.
#   spool_sanitizer_env [report_dir]
# Every report is fatal: the first one ends the process (halt_on_error; the builds also use
# -fno-sanitize-recover) with exit status 86, which no test expects of a process it starts.
# Not abort_on_error: Boost.Test traps SIGABRT, and a TSan abort then hung the test instead of
# ending it. LeakSanitizer checks each ASan process at exit. With report_dir, reports are written
# there as files (log_path) instead of stderr, so that one in a child process whose exit status a
# test ignores still fails the run: scripts/test fails when the folder is not empty.

spool_sanitizer_env() {
  local root common="halt_on_error=1:abort_on_error=0:exitcode=86:print_summary=1"
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  [[ -z "${1:-}" ]] || common+=":log_path=$1/report"
  export ASAN_OPTIONS="detect_leaks=1:check_initialization_order=1:strict_init_order=1:$common"
  export UBSAN_OPTIONS="print_stacktrace=1:$common"
  export LSAN_OPTIONS="$common"
  export TSAN_OPTIONS="second_deadlock_stack=1:suppressions=$root/tests/sanitizers/tsan.supp:$common"
}
