#!/usr/bin/env bash
# Installs the Debian packages ctbench needs to build, test and benchmark.
# Idempotent: safe to run again; it installs only what is missing.
set -euo pipefail

packages=(libpcap-dev libjemalloc-dev pkg-config valgrind)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap: all packages present (${packages[*]})"
  exit 0
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

# apt-get right after apt-get update sometimes fails once (dpkg lock, stale list): retry.
for attempt in 1 2 3 4 5; do
  if $SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    echo "bootstrap: installed ${missing[*]}"
    exit 0
  fi
  echo "bootstrap: apt-get failed (attempt $attempt), retrying in $((attempt * 5)) s" >&2
  sleep $((attempt * 5))
done
echo "bootstrap: could not install ${missing[*]}" >&2
exit 1
