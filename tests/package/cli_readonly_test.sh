#!/usr/bin/env bash
# `spool --version`, and read-only commands that neither create nor migrate a database.
#   cli_readonly_test.sh SPOOL_BINARY
set -euo pipefail
spool="$1"
tmp="$(mktemp -d /tmp/spool-readonly-test.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

out="$("$spool" --version)"
grep -Eq '^spool [0-9]+\.[0-9]+\.[0-9]+$' <<<"$out" || fail "no version line: $out"
grep -Eq '^commit [0-9a-f]{7,}|^commit unknown$' <<<"$out" || fail "no commit line: $out"
grep -Eq '^sqlite 3\.[0-9]+' <<<"$out" || fail "no sqlite line: $out"
grep -Eq '^libpq [0-9]+\.[0-9]+' <<<"$out" || fail "no libpq line: $out"

# A missing SQLite file: exit 1, one line naming `spool migrate`, and no file left behind.
for cmd in "stats" "jobs list" "jobs show 1" "dlq list" "nodes" "periodic list"; do
  set +e
  # shellcheck disable=SC2086
  err="$("$spool" --db "sqlite:$tmp/missing.db" $cmd 2>&1 >/dev/null)"
  rc=$?
  set -e
  [[ $rc == 1 ]] || fail "$cmd on a missing file exited $rc"
  [[ "$(wc -l <<<"$err")" == 1 ]] || fail "$cmd: more than one line: $err"
  grep -q 'run `spool migrate`' <<<"$err" || fail "$cmd: no hint: $err"
  [[ ! -e "$tmp/missing.db" ]] || fail "$cmd created the database file"
done

# A database without Spool's schema (e.g. the wrong file): exit 1, not migrated behind our back.
sqlite3 "$tmp/other.db" 'CREATE TABLE unrelated (x INTEGER)'
set +e
err="$("$spool" --db "sqlite:$tmp/other.db" stats 2>&1 >/dev/null)"
rc=$?
set -e
[[ $rc == 1 ]] || fail "stats on an unmigrated database exited $rc"
grep -q 'is not migrated: run `spool migrate`' <<<"$err" || fail "unmigrated: $err"
tables="$(sqlite3 "$tmp/other.db" "SELECT group_concat(name) FROM sqlite_master WHERE type='table'")"
[[ "$tables" == unrelated ]] || fail "stats migrated the database: $tables"

# After `spool migrate` the same commands work.
"$spool" --db "sqlite:$tmp/new.db" migrate >/dev/null
"$spool" --db "sqlite:$tmp/new.db" stats >/dev/null || fail "stats after migrate"
"$spool" --db "sqlite:$tmp/new.db" jobs list >/dev/null || fail "jobs list after migrate"

# PostgreSQL: a schema of its own on the test server, empty, then migrated.
if [[ -n "${SPOOL_TEST_PG:-}" ]]; then
  schema="readonly_$$_$RANDOM"
  psql -q "$SPOOL_TEST_PG" -c "CREATE SCHEMA $schema" >/dev/null
  trap 'psql -q "$SPOOL_TEST_PG" -c "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
  sep='?'; [[ "$SPOOL_TEST_PG" == *\?* ]] && sep='&'
  url="${SPOOL_TEST_PG}${sep}options=-csearch_path%3D${schema}"
  set +e
  err="$("$spool" --db "$url" stats 2>&1 >/dev/null)"
  rc=$?
  set -e
  [[ $rc == 1 ]] || fail "PostgreSQL: stats on an unmigrated schema exited $rc: $err"
  grep -q 'is not migrated: run `spool migrate`' <<<"$err" || fail "PostgreSQL: $err"
  n="$(psql -qAt "$SPOOL_TEST_PG" -c "SELECT count(*) FROM pg_tables WHERE schemaname='$schema'")"
  [[ "$n" == 0 ]] || fail "PostgreSQL: stats created $n tables"
  "$spool" --db "$url" migrate >/dev/null
  "$spool" --db "$url" stats >/dev/null || fail "PostgreSQL: stats after migrate"
else
  echo "SPOOL_TEST_PG unset: PostgreSQL part skipped"
fi
echo "read-only commands ok"
