# shellcheck shell=bash
# Sourced helper: dependency installation and the CMake build.
#   spool_install_deps [extra packages...]
#   spool_configure [build_dir] [extra cmake args...]
#   spool_build [build_dir] [extra cmake args...]   (SPOOL_BUILD_TARGETS: only these targets)

SPOOL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

SPOOL_DEPS=(build-essential cmake libboost1.81-dev libboost-test1.81-dev libboost-json1.81-dev
  libsoci-dev libsqlite3-dev libpq-dev libspdlog-dev libcli11-dev sqlite3 libssl-dev lld
  libhowardhinnant-date-dev tzdata libsystemd-dev)
# The example HTTP worker (examples/http_worker) that the HTTP kinds' e2e test starts.
SPOOL_DEPS+=(python3)

# The sanitizer builds use clang 14: it builds them in about two thirds of GCC's time, and
# build-asan is also the fuzzing build (libFuzzer). libclang-rt-14-dev holds libclang_rt.fuzzer
# and clang's sanitizer runtimes.
SPOOL_CLANG_DEPS=(clang-14 libclang-rt-14-dev)
SPOOL_ASAN_CMAKE_ARGS=(-DCMAKE_CXX_COMPILER=clang++-14 -DSPOOL_SANITIZE=address -DSPOOL_FUZZ=ON)
SPOOL_TSAN_CMAKE_ARGS=(-DCMAKE_CXX_COMPILER=clang++-14 -DSPOOL_SANITIZE=thread)

# Installs whatever is missing from SPOOL_DEPS + args; prints nothing when all are installed.
spool_install_deps() {
  local pkg missing=() sudo=() log
  for pkg in "${SPOOL_DEPS[@]}" "$@"; do
    [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" == "install ok installed" ]] ||
      missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0

  if ((EUID != 0)); then
    command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; return 1; }
    sudo=(sudo)
  fi
  echo "installing: ${missing[*]}"
  # Installing a postgresql-N package would otherwise create and start a "main" cluster on 5432.
  if [[ " ${missing[*]} " =~ \ postgresql-[0-9]+\  ]]; then
    "${sudo[@]}" mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" |
      "${sudo[@]}" tee /etc/postgresql-common/createcluster.d/00-nomain.conf >/dev/null
  fi
  log="$(mktemp /tmp/spool-apt.XXXXXX.log)"
  if ! { "${sudo[@]}" apt-get update -qq &&
         "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
           apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "package installation failed (log: $log)" >&2
    return 1
  fi
  rm -f "$log"
}

# Configures (only when not yet configured or extra args are given). A relative build_dir is
# relative to the repo root.
spool_configure() (
  cd "$SPOOL_ROOT" || return
  local dir="${1:-build}"
  (($#)) && shift
  # A failed configure leaves CMakeCache.txt but no Makefile/build.ninja: check for those too.
  if [[ ! -f "$dir/CMakeCache.txt" || $# -gt 0 ||
        ( ! -f "$dir/Makefile" && ! -f "$dir/build.ninja" ) ]]; then
    # ccache, when the machine has it, makes rebuilds (and other checkouts' builds) cheap.
    local launcher=()
    command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${launcher[@]+"${launcher[@]}"} "$@"
  fi
)

# Configures as spool_configure does, then builds every target, or only those listed in
# SPOOL_BUILD_TARGETS (space-separated).
spool_build() {
  local dir="${1:-build}" targets=()
  read -r -a targets <<<"${SPOOL_BUILD_TARGETS:-}"
  spool_configure "$@" || return
  (cd "$SPOOL_ROOT" && cmake --build "$dir" -j"$(nproc)" ${targets[@]+--target "${targets[@]}"})
}

# Tools of the HTTP, dashboard and docs tests: Debian's prometheus (for promtool), chromium and
# graphviz (docs/diagrams), Node.js and npm when the machine has none, then the npm packages of
# tests/dashboard (playwright-core) and tests/openapi (the OpenAPI validator) from their lock files.
# Prints nothing when everything is in place.
spool_install_test_tools() {
  local extra=(prometheus chromium graphviz) dir log
  command -v node >/dev/null || extra+=(nodejs)
  command -v npm >/dev/null || extra+=(npm)
  spool_install_deps "${extra[@]}" || return
  for dir in "$SPOOL_ROOT/tests/dashboard" "$SPOOL_ROOT/tests/openapi"; do
    # npm writes node_modules/.package-lock.json on install: newer than the lock means up to date.
    [[ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]] && continue
    log="$(mktemp /tmp/spool-npm.XXXXXX.log)"
    if ! npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
      cat "$log" >&2
      echo "npm ci in ${dir#"$SPOOL_ROOT/"} failed (log: $log)" >&2
      return 1
    fi
    rm -f "$log"
  done
}

# Runs CPack on a configured and built build_dir, writing the .deb files to out_dir. CPack would
# first build the whole `all` target (the tests included); CPACK_CMAKE_GENERATOR empty skips that,
# so build what the packages hold before (spool_cli, spool, spool_asio).
spool_cpack() {
  local dir="$1" out="$2" log
  mkdir -p "$out"
  log="$(mktemp /tmp/spool-cpack.XXXXXX.log)"
  if ! cpack --config "$dir/CPackConfig.cmake" -B "$out" >"$log" 2>&1; then
    cat "$log" >&2
    echo "cpack failed (log: $log)" >&2
    return 1
  fi
  rm -f "$log"
  rm -rf "$out/_CPack_Packages"
}
