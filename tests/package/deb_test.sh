#!/usr/bin/env bash
# The Debian packages (scripts/package, cmake/package.cmake), built from this build tree:
#   deb_test.sh BUILD_DIR SOURCE_DIR VERSION
# Checks the control fields and contents of spool and spool-dev, runs the extracted `spool`
# (--version, `config check` of the packaged /etc/spool/spool.json), and has
# `systemd-analyze verify` check spool.service. As root (CI), it also installs the package with
# `dpkg -i` (twice: the upgrade path), checks the user, the directories and the conffile's mode,
# verifies the installed unit, then purges what it installed: able to run again.
set -euo pipefail
build="$1" src="$2" version="$3"
tmp="$(mktemp -d /tmp/spool-deb-test.XXXXXX)"
installed_here=0
cleanup() {
  if ((installed_here)); then dpkg --purge spool >/dev/null 2>&1 || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

source "$src/scripts/lib/deps.sh"
spool_cpack "$build" "$tmp/out"
arch="$(dpkg --print-architecture)"
deb="$tmp/out/spool_${version}-1_${arch}.deb"
dev="$tmp/out/spool-dev_${version}-1_${arch}.deb"
[[ -f "$deb" && -f "$dev" ]] || fail "expected $(basename "$deb") and $(basename "$dev"), got: $(ls "$tmp/out")"

# Control fields.
field() { dpkg-deb -f "$1" "$2"; }
[[ "$(field "$deb" Package)" == spool ]] || fail "Package: $(field "$deb" Package)"
[[ "$(field "$deb" Version)" == "${version}-1" ]] || fail "Version: $(field "$deb" Version)"
[[ "$(field "$deb" Architecture)" == "$arch" ]] || fail "Architecture: $(field "$deb" Architecture)"
[[ -n "$(field "$deb" Maintainer)" ]] || fail "no Maintainer"
depends="$(field "$deb" Depends)"
# From dpkg-shlibdeps: the shared libraries `spool` links (names as prefixes: Debian's spdlog
# package is libspdlog1.10-fmt9).
for lib in "adduser," "libsystemd0" "libsoci-core4.0 " "libsoci-sqlite3-4.0 " "libsoci-postgresql4.0 " \
           "libpq5 " "libboost-json1.81.0 " "libspdlog1" "libsqlite3-0 " "libc6 " "libstdc++6 "; do
  [[ ", $depends," == *", $lib"* ]] || fail "Depends lacks ${lib%[ ,]}: $depends"
done
[[ "$(field "$dev" Package)" == spool-dev ]] || fail "dev Package: $(field "$dev" Package)"
[[ "$(field "$dev" Version)" == "${version}-1" ]] || fail "dev Version: $(field "$dev" Version)"
for pkg in libboost-json1.81-dev libsoci-dev libspdlog-dev libpq-dev libsqlite3-dev; do
  [[ "$(field "$dev" Depends)" == *"$pkg"* ]] || fail "spool-dev Depends lacks $pkg"
done

# Maintainer scripts and the conffile.
dpkg-deb -e "$deb" "$tmp/control"
for script in postinst prerm postrm; do
  [[ -x "$tmp/control/$script" ]] || fail "no executable $script"
  sh -n "$tmp/control/$script" || fail "$script does not parse"
done
[[ "$(cat "$tmp/control/conffiles")" == /etc/spool/spool.json ]] || fail "conffiles: $(cat "$tmp/control/conffiles")"
grep -q "adduser --system" "$tmp/control/postinst" || fail "postinst creates no system user"
if grep -v '^[[:space:]]*#' "$tmp/control/postinst" |
   grep -Eq "systemctl (enable|start)|deb-systemd-helper enable"; then
  fail "postinst enables or starts the service"
fi

# Contents: the server in spool, the library in spool-dev, nothing of one in the other.
dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$tmp/deb.list"
dpkg-deb -c "$dev" | awk '{print $NF}' | sed 's|^\./|/|' >"$tmp/dev.list"
for f in /usr/bin/spool /usr/lib/systemd/system/spool.service /etc/spool/spool.json \
         /usr/share/doc/spool/README.md; do
  grep -qx "$f" "$tmp/deb.list" || fail "spool lacks $f"
done
! grep -Eq '^/usr/(include|lib/.*\.a$)' "$tmp/deb.list" || fail "spool holds library files"
for f in /usr/include/spool/spool.hpp /usr/include/spool/runtime.hpp /usr/include/spool/version.hpp; do
  grep -qx "$f" "$tmp/dev.list" || fail "spool-dev lacks $f"
done
for re in '/usr/lib/(.*/)?libspool\.a' '/usr/lib/(.*/)?cmake/spool/spoolConfig\.cmake' \
          '/usr/lib/(.*/)?pkgconfig/spool\.pc'; do
  grep -Eqx "$re" "$tmp/dev.list" || fail "spool-dev lacks $re"
done
! grep -Eq '^/(usr/bin|etc)/' "$tmp/dev.list" || fail "spool-dev holds server files"

# The extracted binary runs and reads the packaged config as the service will.
dpkg -x "$deb" "$tmp/root"
"$tmp/root/usr/bin/spool" --version | grep -q "spool $version" ||
  fail "--version: $("$tmp/root/usr/bin/spool" --version 2>&1)"
check="$(cd "$tmp" && env -u SPOOL_DB -u SPOOL_HTTP -u SPOOL_CONFIG \
  "$tmp/root/usr/bin/spool" --config "$tmp/root/etc/spool/spool.json" config check)"
[[ "$check" == "config ok: db /var/lib/spool/spool.db, admin endpoint 127.0.0.1:8080, queues default=100" ]] ||
  fail "config check: $check"

# The unit as systemd reads it. verify also checks that ExecStart= is executable, so the
# extracted copy is verified with ExecStart= naming the extracted binary.
unit="$tmp/root/usr/lib/systemd/system/spool.service"
grep -qx "Type=notify" "$unit" && grep -qx "User=spool" "$unit" && grep -qx "StateDirectory=spool" "$unit" &&
  grep -qx "ExecStart=/usr/bin/spool run --config /etc/spool/spool.json" "$unit" &&
  grep -q "^WatchdogSec=" "$unit" || fail "spool.service lacks a key line"
verify() {
  local out
  out="$(systemd-analyze verify "$1" 2>&1)" || { echo "$out" >&2; fail "systemd-analyze verify $1"; }
  # Warnings (exit 0) about this unit fail too; those about the host's own units do not.
  if grep -i "spool" <<<"$out"; then fail "systemd-analyze verify warns about $1"; fi
}
mkdir -p "$tmp/verify"
sed "s|^ExecStart=/usr/bin/spool|ExecStart=$tmp/root/usr/bin/spool|" "$unit" >"$tmp/verify/spool.service"
verify "$tmp/verify/spool.service"
echo "extracted package ok"

# Installed for real (root only; never over a spool package that was there before).
if ((EUID == 0)) && ! dpkg-query -W -f='${Status}' spool 2>/dev/null | grep -q "install ok installed"; then
  installed_here=1
  for round in 1 2; do
    dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log" >&2; fail "dpkg -i (round $round)"; }
  done
  getent passwd spool >/dev/null || fail "no user spool after dpkg -i"
  [[ "$(getent passwd spool | cut -d: -f7)" == /usr/sbin/nologin ]] || fail "spool has a login shell"
  [[ "$(stat -c %U:%a /var/lib/spool)" == spool:750 ]] || fail "/var/lib/spool: $(stat -c %U:%a /var/lib/spool)"
  [[ "$(stat -c %U:%G:%a /etc/spool/spool.json)" == root:spool:640 ]] ||
    fail "/etc/spool/spool.json: $(stat -c %U:%G:%a /etc/spool/spool.json)"
  verify /usr/lib/systemd/system/spool.service
  # As the service's user, from its directory: the config is readable, and opens no database.
  check="$(cd /var/lib/spool && runuser -u spool -- env -u SPOOL_DB -u SPOOL_HTTP -u SPOOL_CONFIG \
    /usr/bin/spool --config /etc/spool/spool.json config check)"
  [[ "$check" == "config ok: db /var/lib/spool/spool.db"* ]] || fail "installed config check: $check"
  [[ ! -e /var/lib/spool/spool.db ]] || fail "config check created a database"
  dpkg --purge spool >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log" >&2; fail "dpkg --purge"; }
  installed_here=0
  [[ ! -e /usr/bin/spool && ! -e /etc/spool/spool.json ]] || fail "purge left files behind"
  echo "dpkg -i, verify and purge ok"
else
  echo "dpkg -i skipped: $( ((EUID == 0)) && echo "a spool package is installed already" || echo "not root")"
fi
echo "deb package ok: $(basename "$deb") $(basename "$dev")"
