#!/usr/bin/env bash
# scripts/run.sh — quick start: install what is missing, build, and run
# gannetd on its embedded defaults (MQTT on port 1883). Extra arguments go
# to gannetd (try --help).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
gannet_install_packages
gannet_build build --buildtype=release
exec build/tools/gannetd/gannetd "$@"
