#!/usr/bin/env bash
# Idempotent machine setup for tests and CI: installs only the Debian packages that are missing.
# better-sqlite3 compiles from source against Node's headers (no prebuilt download here), so the
# toolchain is listed; every test dependency that is not an npm package is listed here.
set -euo pipefail

PACKAGES=(
  g++ make python3   # node-gyp build of better-sqlite3
  util-linux         # taskset/setsid: benchmark CPU pinning, smoke test process groups
  curl               # smoke test
  swtpm swtpm-tools  # a software TPM 2.0 with EK certificates for the tpm-quote attestor's tests
  tpm2-tools         # quotes and credential activation against that TPM in tests (and the SDK helper)
  chromium           # the console's browser tests (Playwright drives Debian's Chromium; no browser download)
  fonts-dejavu-core  # a font for Chromium's rendering in headless tests and screenshots
  postgresql         # the PostgreSQL store's tests start a throwaway cluster (initdb, pg_ctl) on loopback
  strace             # the first-start test checks the order of fsync, rename and commit in a real `mandate serve`
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all Debian packages present (${PACKAGES[*]})"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
