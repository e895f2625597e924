#!/usr/bin/env bash
# Runs the whole test suite under ThreadSanitizer and under AddressSanitizer, each in its own
# build folder (.build-tsan, .build-asan; both ignored by git). Exits non-zero if either fails.
# Takes a few minutes per sanitizer on 2 cores (a full debug build each).
set -euo pipefail
cd "$(dirname "$0")/.."
# Leaks inside the toolchain (XCTest, swift-foundation) are suppressed; see scripts/lsan.supp.
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0"
status=0
for sanitizer in thread address; do
  echo "== swift test --sanitize=$sanitizer"
  if swift test --sanitize="$sanitizer" --scratch-path ".build-${sanitizer:0:1}san" 2>&1 | tail -n 3; then :; fi
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
done
exit $status
