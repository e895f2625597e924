#!/usr/bin/env bash
# Runs the whole test suite under ThreadSanitizer and under AddressSanitizer, each in its own
# build folder (.build-tsan, .build-asan; both ignored by git). Exits non-zero if either fails.
# Takes a few minutes per sanitizer on 2 cores (a full debug build each).
set -uo pipefail
cd "$(dirname "$0")/.."
# Leaks inside the toolchain (XCTest, swift-foundation) are suppressed; see scripts/lsan.supp.
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0"
status=0
for sanitizer in thread address; do
  scratch=".build-${sanitizer:0:1}san"
  log="$scratch/sanitizer-test.log"   # the whole output: a report's stacks are in it
  mkdir -p "$scratch"
  echo "== swift test --sanitize=$sanitizer (log: $log)"
  swift test --sanitize="$sanitizer" --scratch-path "$scratch" >"$log" 2>&1
  rc=$?
  tail -n 3 "$log"
  reports=$(grep -cE 'WARNING: ThreadSanitizer|ERROR: AddressSanitizer|ERROR: LeakSanitizer' "$log" || true)
  echo "$sanitizer: exit $rc, $reports sanitizer report(s)"
  [ "$rc" -eq 0 ] && [ "$reports" -eq 0 ] || status=1
done
exit $status
