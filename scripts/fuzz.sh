#!/usr/bin/env bash
# Builds the libFuzzer executables (Fuzz/, debug + AddressSanitizer) and runs each fuzz target
# for a bounded time, one after the other; prints executions and findings per target.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     SECONDS per target (default 60); targets: packet
#                                             datapath ftp tftp flows pcap (default: all)
#
# Seeds: Fuzz/Corpus/<target> (committed; datapath starts from packet's). New inputs go to
# Fuzz/.work/corpus/<target>, crashes to Fuzz/.work/artifacts/<target>/ (both ignored by git).
# Exit status 0 when no target found anything, 1 otherwise. See Fuzz/README.md.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(packet datapath ftp tftp flows pcap)

build() { swift build --package-path Fuzz -c debug -Xswiftc -sanitize=fuzzer,address 2>&1 | grep -v "Cannot export local symbol"; }
echo "== building Fuzz/ (debug, -sanitize=fuzzer,address)"
# SwiftPM does not see files added to the path dependency (the package above) without a new
# plan: touching this manifest forces one.
touch Fuzz/Package.swift
# The gold linker has been seen to fail once on a parallel link: one retry.
build | tail -n 2; if [ "${PIPESTATUS[0]}" -ne 0 ]; then build | tail -n 20; [ "${PIPESTATUS[0]}" -eq 0 ] || exit 2; fi

max_len() { case $1 in packet|datapath|pcap) echo 16384 ;; tftp) echo 1024 ;; *) echo 4096 ;; esac; }

export SWIFT_BACKTRACE=enable=no   # libFuzzer and ASan print the stack; the Swift backtracer hangs under ASan
status=0
summary=()
for target in "${targets[@]}"; do
  seeds=Fuzz/Corpus/$target
  [ "$target" = datapath ] && seeds=Fuzz/Corpus/packet
  work=Fuzz/.work/corpus/$target
  artifacts=Fuzz/.work/artifacts/$target
  mkdir -p "$work" "$artifacts"
  log=Fuzz/.work/$target.log
  echo "== $target: $seconds s (log: $log)"
  timeout -s KILL $((seconds + 120)) "Fuzz/.build/debug/fuzz-$target" "$work" "$seeds" \
    -max_total_time="$seconds" -print_final_stats=1 -max_len="$(max_len "$target")" -timeout=10 \
    -rss_limit_mb=4096 -artifact_prefix="$artifacts/" >"$log" 2>&1
  rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  units=$(ls "$work" | wc -l)
  findings=$(ls "$artifacts" | grep -cE '^(crash|leak|timeout|oom|slow-unit)-' || true)
  line=$(printf '%-9s %5ss %12s execs %7s/s %6s corpus  %s finding(s)  exit %s' \
    "$target" "$seconds" "${runs:-?}" "${rate:-?}" "$units" "$findings" "$rc")
  echo "$line"
  summary+=("$line")
  if [ "$rc" -ne 0 ] || [ "$findings" -ne 0 ]; then
    status=1
    grep -m1 -E 'Fatal error|ERROR: AddressSanitizer|ERROR: libFuzzer|==ERROR' "$log" | sed 's/^/    /'
    ls "$artifacts" | sed "s|^|    $artifacts/|"
  fi
done
echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
