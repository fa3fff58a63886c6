#!/usr/bin/env bash
# Installs what tally needs to build, run and test on Debian 12, and only what
# is missing (so a second run costs a second). Safe to run repeatedly.
set -euo pipefail

PACKAGES=(
  g++ cmake ninja-build ccache pkg-config make
  libboost1.81-dev libboost-json1.81-dev
  libfmt-dev libspdlog-dev libcli11-dev libtomlplusplus-dev
  prometheus-cpp-dev libhowardhinnant-date-dev
  libcurl4-openssl-dev libssl-dev libsqlite3-dev libzstd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  sqlite3 curl
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
