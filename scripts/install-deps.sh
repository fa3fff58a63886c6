#!/usr/bin/env bash
# Installs what tally needs to build, run and test on Debian 12, and only what
# is missing (so a second run costs a second). Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  g++ cmake ninja-build ccache pkg-config make
  libboost1.81-dev libboost-json1.81-dev
  libfmt-dev libspdlog-dev libcli11-dev libtomlplusplus-dev
  prometheus-cpp-dev libhowardhinnant-date-dev
  libcurl4-openssl-dev libssl-dev libsqlite3-dev libzstd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  sqlite3 curl
  redis-server libhiredis-dev
  postgresql-15 postgresql-15-partman libpq-dev
  opensmtpd
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js runs the UI's npm packages (uPlot, bundled at build time) and the
# browser tests; the machine image usually has a newer one than Debian's.
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs npm); fi

install_npm_packages() {
  # Reinstall only when package-lock.json changed since the last install.
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  install_npm_packages
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
# The email notifier's test starts its own OpenSMTPD; a system instance
# (started by the package on machines with systemd) would hold the
# machine-wide control socket, so it is stopped and disabled.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet opensmtpd 2>/dev/null; then
  $SUDO systemctl disable --now opensmtpd >/dev/null 2>&1 || true
elif pgrep -x smtpd >/dev/null 2>&1; then
  # No systemd (a container): the package's init script may have started it.
  $SUDO service opensmtpd stop >/dev/null 2>&1 || $SUDO pkill -x smtpd || true
fi
install_npm_packages
