#!/usr/bin/env bash
# Swift reference counting in a ctbench run, counted exactly: uprobes on libswiftCore's
# swift_retain and swift_release (this VM has no hardware counters, but uprobes work), over a
# run of three loops minus a run of one, halved: the calls one timed loop of the trace makes
# (loading and set-up cancel out). With SITES=1 it also lists the call sites the probes hit most
# in the three-loop run (`perf record -g` on the same probes), to find what retains.
# docs/PERFORMANCE.md, "Session 20", has the counts for the anchor. Needs perf and root.
#
#   scripts/retains-per-loop.sh TRACE [ctbench options...]    e.g. ... anchor.pcap --threads 2
#
# The binary is .build/release/ctbench (CTBENCH=path to use another).
set -euo pipefail
trace=${1:?usage: $0 TRACE [ctbench options]}
shift
options=("$@")
here=$(cd "$(dirname "$0")/.." && pwd)
ctbench=$(realpath "${CTBENCH:-$here/.build/release/ctbench}")
[[ -x "$ctbench" ]] || { echo "retains-per-loop.sh: no $ctbench (swift build -c release)" >&2; exit 2; }
core=$(ldd "$ctbench" | awk '/libswiftCore.so/ {print $3}')
[[ -n "$core" ]] || { echo "retains-per-loop.sh: $ctbench does not load libswiftCore.so" >&2; exit 2; }
for function in swift_retain swift_release; do
  perf probe -l 2>/dev/null | grep -q "probe_libswiftCore:$function " || perf probe -q -x "$core" "$function"
done
events=(-e probe_libswiftCore:swift_retain -e probe_libswiftCore:swift_release)

# calls LOOPS: retains and releases of one run of LOOPS timed loops.
calls() {
  perf stat -x, "${events[@]}" "$ctbench" --no-latency --loop "$1" "${options[@]}" "$trace" 2>&1 >/dev/null |
    awk -F, '/probe_libswiftCore/ {sum += $1} END {print sum}'
}
one=$(calls 1)
three=$(calls 3)
echo "retains and releases per loop: $(( (three - one) / 2 ))"

if [[ "${SITES:-0}" == 1 ]]; then
  data=$(mktemp)
  trap 'rm -f "$data"' EXIT
  perf record -q -g "${events[@]}" -o "$data" "$ctbench" --no-latency --loop 3 "${options[@]}" "$trace" > /dev/null 2>&1
  echo "call sites, three loops (count, probe, return address, caller):"
  perf script -i "$data" -F event,ip,sym 2>/dev/null |
    awk '/probe_libswiftCore/ {event = $1; getline; getline; print event, $1, $2}' |
    sort | uniq -c | sort -rn | head -"${TOP:-15}" | cut -c1-160
fi
