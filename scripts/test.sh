#!/usr/bin/env bash
# scripts/test.sh — install what is missing, then build and run every test:
#   1. gcc release build, -Werror: unit + integration tests
#   2. clang ASan+UBSan build: unit + integration tests
#   3. clang TSan build: the concurrency tests
#   4. clang libFuzzer targets, each for a bounded time over its seed corpus
# Prints one closing line "tests: N passed, M failed" and exits non-zero on
# any failure. GANNET_FUZZ_SECONDS (default 45) bounds each fuzz target.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
set +e
gannet_install_packages || { echo "setup failed"; exit 1; }

passed=0; failed=0; stages_failed=()

# count_meson DIR: add the results of DIR's last meson test run.
count_meson() {
  local counts
  counts=$(/usr/bin/python3 - "$1/meson-logs/testlog.json" <<'PY'
import json, sys
ok = bad = 0
try:
    for line in open(sys.argv[1]):
        r = json.loads(line)
        if r.get("result") in ("OK", "EXPECTEDFAIL", "SKIP"):
            ok += 1
        else:
            bad += 1
except FileNotFoundError:
    bad += 1
print(ok, bad)
PY
)
  passed=$((passed + ${counts% *})); failed=$((failed + ${counts#* }))
}

# stage NAME DIR SETUP-OPTS -- TEST-OPTS
stage() {
  local name=$1 dir=$2; shift 2
  local setup=() testopts=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do setup+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  testopts=("$@")
  echo "=== $name ($dir)"
  if ! gannet_build "$dir" "${setup[@]}"; then
    echo "=== $name: BUILD FAILED"; failed=$((failed + 1)); stages_failed+=("$name"); return
  fi
  meson test -C "$dir" --print-errorlogs "${testopts[@]}" | grep -E '^ *[0-9]+/[0-9]+ |^(Ok|Fail|Skipped|Timeout):|Checks:' 
  local rc=${PIPESTATUS[0]}
  count_meson "$dir"
  if [ "$rc" -ne 0 ]; then stages_failed+=("$name"); fi
}

stage "release (gcc, -Werror)" build-ci-release \
  -Dwerror=true --buildtype=release -Dfuzz=disabled -- --num-processes 2
CC=clang stage "asan+ubsan (clang)" build-ci-asan \
  -Dwerror=true --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=disabled \
  -- --num-processes 2 --timeout-multiplier 3
CC=clang stage "tsan (clang)" build-ci-tsan \
  -Dwerror=true --buildtype=debugoptimized -Db_sanitize=thread -Db_lundef=false -Dfuzz=disabled -Dtsan_tests=true \
  -- --suite tsan --timeout-multiplier 4

echo "=== fuzz (clang libFuzzer, ${GANNET_FUZZ_SECONDS:-45}s each)"
if CC=clang gannet_build build-ci-fuzz -Dwerror=true --buildtype=debugoptimized -Dfuzz=enabled; then
  for f in build-ci-fuzz/tests/fuzz/fuzz_*; do
    [ -f "$f" ] && [ -x "$f" ] || continue
    name=$(basename "$f"); corpus_src="tests/fuzz/corpus/${name#fuzz_}"
    work=$(mktemp -d); [ -d "$corpus_src" ] && cp -r "$corpus_src/." "$work/"
    if "$f" -max_total_time="${GANNET_FUZZ_SECONDS:-45}" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
         -print_final_stats=0 "$work" >"$work.log" 2>&1; then
      echo "fuzz $name: ok ($(grep -c . "$work.log") log lines)"; passed=$((passed + 1))
    else
      echo "fuzz $name: FAILED"; tail -40 "$work.log"; failed=$((failed + 1)); stages_failed+=("fuzz $name")
    fi
    rm -rf "$work" "$work.log"
  done
else
  echo "=== fuzz: BUILD FAILED"; failed=$((failed + 1)); stages_failed+=("fuzz build")
fi

if [ ${#stages_failed[@]} -gt 0 ]; then echo "failed stages: ${stages_failed[*]}"; fi
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#stages_failed[@]} -eq 0 ]
