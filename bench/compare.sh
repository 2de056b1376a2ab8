#!/bin/sh
# bench/compare.sh — gannetd vs mosquitto on the issue-4 scenarios; the work
# is done by compare.py (Debian's /usr/bin/python3). See bench/README.md.
exec /usr/bin/python3 "$(dirname "$0")/compare.py" "$@"
