# shellcheck shell=bash
# Sourced helper: a throwaway PostgreSQL 15 on 127.0.0.1 for tests.
#   spool_start_pg   starts it and exports SPOOL_TEST_PG (and SPOOL_PG_DIR); SPOOL_PG_STOCK=1
#                    keeps the stock server settings (fsync on), for benchmarks
#   spool_stop_pg    stops it and removes its directory; use: trap spool_stop_pg EXIT

SPOOL_PG_BIN=/usr/lib/postgresql/15/bin

# Runs a PostgreSQL binary from / (the postgres user may not be able to read the cwd);
# as root it runs as postgres, because initdb and postgres refuse to run as root.
_spool_pg_as_owner() (
  cd / || return
  if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
)

# True when something listens on TCP port $1 (any address).
_spool_port_busy() {
  local port=$1
  if command -v ss >/dev/null; then
    [[ -n "$(ss -Htln "sport = :$port")" ]]
  else
    # /proc/net/tcp{,6}: local_address is ADDR:PORT (hex), state 0A is LISTEN.
    local hex f _sl addr _rem st _rest
    printf -v hex '%04X' "$port"
    for f in /proc/net/tcp /proc/net/tcp6; do
      [[ -r $f ]] || continue
      while read -r _sl addr _rem st _rest; do
        [[ $st == 0A && ${addr##*:} == "$hex" ]] && return 0
      done <"$f"
    done
    return 1
  fi
}

spool_start_pg() {
  local dir port attempt
  dir="$(mktemp -d /tmp/spool-pg.XXXXXX)"
  SPOOL_PG_DIR=$dir
  export SPOOL_PG_DIR
  if ((EUID == 0)); then chown postgres: "$dir"; fi
  _spool_pg_as_owner "$SPOOL_PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }

  # Probe for a free port; retry a few times in case another process takes it before we bind.
  # Tests need no durability across a power loss, and start many nodes at once.
  local tuning="-c fsync=off -c max_connections=200"
  [[ "${SPOOL_PG_STOCK:-}" != 1 ]] || tuning=""
  port=54320
  for attempt in 1 2 3 4 5; do
    while _spool_port_busy "$port"; do ((port++)); done
    if _spool_pg_as_owner "$SPOOL_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir $tuning" \
        >/dev/null; then
      break
    fi
    ((attempt < 5)) || { cat "$dir/server.log" >&2; return 1; }
    ((port++))
  done

  "$SPOOL_PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres spool_test
  SPOOL_TEST_PG="postgresql://postgres@127.0.0.1:$port/spool_test"
  export SPOOL_TEST_PG
}

spool_stop_pg() {
  local dir=${SPOOL_PG_DIR:-} pid i
  [[ -n "$dir" ]] || return 0
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    pid="$(head -n1 "$dir/data/postmaster.pid")"
    # SIGINT = "fast" shutdown: disconnect clients, shut down cleanly.
    if kill -INT "$pid" 2>/dev/null; then
      for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then echo "postgres $pid still running after 30 s" >&2; fi
    fi
  fi
  rm -rf "$dir"
  unset SPOOL_PG_DIR SPOOL_TEST_PG
}
