#!/usr/bin/env bash
# scripts/setup.sh — install the Debian 12 packages Gannet needs (only the
# missing ones, as root) and configure + build a release tree in build/.
# Sourced by run.sh and test.sh; can be run alone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GANNET_PACKAGES=(
  gcc clang meson ninja-build pkg-config
  liburing-dev libssl-dev libxxhash-dev libsqlite3-dev check libsubunit-dev
  libclang-rt-14-dev llvm
  mosquitto mosquitto-clients python3-paho-mqtt python3
  openssl procps iproute2
  libgeoip-dev geoip-database
)

gannet_install_packages() {
  local missing=()
  for p in "${GANNET_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "setup: installing ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # mosquitto's package starts a system service when an init system runs;
  # policy-rc.d keeps it from holding port 1883 (tests use their own ports).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    local cleanup_policy=1
  fi
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ "${cleanup_policy:-0}" = 1 ]; then $sudo rm -f /usr/sbin/policy-rc.d; fi
}

# gannet_build DIR [meson options...]: configure (once) and build DIR.
gannet_build() {
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >/dev/null
  fi
  ninja -C "$dir" >/dev/null || ninja -C "$dir"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  gannet_install_packages
  gannet_build build --buildtype=release
  echo "setup: built into build/"
fi
