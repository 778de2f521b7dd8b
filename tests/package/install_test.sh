#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, then uses it as an application would:
#   install_test.sh cmake BUILD_DIR SOURCE_DIR   examples/embed built out of tree with
#                                                find_package(spool REQUIRED), then run
#   install_test.sh pkgconfig BUILD_DIR SOURCE_DIR   a small program built with
#                                                `pkg-config --cflags --libs spool`, then run
set -euo pipefail
mode="$1" build="$2" src="$3"
tmp="$(mktemp -d /tmp/spool-install-test.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" --component dev >/dev/null
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

case "$mode" in
cmake)
  cmake -S "$src/examples/embed" -B "$tmp/embed" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
    -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
  cmake --build "$tmp/embed" -j2 >/dev/null
  "$tmp/embed/embed_example" "$tmp/embed.db" 20
  # The public header that takes the application's SOCI session: SOCI comes with spool::spool.
  cmake -S "$src/examples/transactional" -B "$tmp/transactional" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
    -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
  cmake --build "$tmp/transactional" -j2 >/dev/null
  "$tmp/transactional/transactional_example" "$tmp/transactional.db" 5
  ;;
pkgconfig)
  export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig:$tmp/prefix/lib/x86_64-linux-gnu/pkgconfig"
  pkg-config --exists --print-errors spool
  cat >"$tmp/check.cpp" <<'CPP'
#include <spool/registry.hpp>
#include <spool/settings.hpp>
#include <spool/transactional.hpp>
#include <spool/version.hpp>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <cstdio>
// Links against libspool: validation rejects a bad setting, the registry keeps a kind and a
// transactional enqueue needs a transaction.
int main() {
  spool::config::settings s;
  s.grace_s = -1;
  bool rejected = false;
  try { spool::config::validate(s); } catch (const spool::config::config_error&) { rejected = true; }
  spool::jobs::registry kinds;
  kinds.add("k", [](spool::jobs::job_context&) -> boost::asio::awaitable<spool::jobs::outcome> {
    co_return spool::jobs::outcome::success();
  });
  // SOCI's headers and libraries come with spool.pc: enqueueing outside a transaction is refused.
  soci::session app(soci::sqlite3, ":memory:");
  bool refused = false;
  try { spool::enqueue(app, spool::jobs::new_job{.kind = "k"}); } catch (const std::logic_error&) { refused = true; }
  std::printf("spool %s rejected=%d kinds=%zu tx_refused=%d\n", SPOOL_VERSION, rejected,
              kinds.kinds().size(), refused);
  return rejected && refused && kinds.find("k") ? 0 : 1;
}
CPP
  # shellcheck disable=SC2046
  c++ -o "$tmp/check" "$tmp/check.cpp" $(pkg-config --cflags --libs spool)
  "$tmp/check"
  ;;
*) echo "unknown mode $mode" >&2; exit 2 ;;
esac
