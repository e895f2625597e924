#!/usr/bin/env bash
# Whether two ctbench builds give the same answers: for each trace and each mode, both builds
# replay it with --verdicts and --json; the verdict files must be byte-identical and the JSON
# counters equal (timings, memory and the shards' timing-dependent fields left out: barrier
# waits, work taken by the other worker). The check every performance change here passes
# before it lands ("verdicts byte-identical", issue 9).
#
#   scripts/verdict-check.sh BUILD_A BUILD_B TRACE...
#
# MODES (semicolon-separated ctbench options, one mode each) defaults to the single partition,
# one lone shard, and two threads. Traces spaced 1 µs apart (every generated one) end before
# any timeout: to check expiry and the connection limit too, stretch one first
# (scripts/stretch-trace.py IN OUT 300) and give a small --max-conns in a mode.
# Exit status 0 when everything matched, 1 otherwise.
set -euo pipefail
[[ $# -ge 3 ]] || { echo "usage: verdict-check.sh BUILD_A BUILD_B TRACE..." >&2; exit 2; }
a="$1" b="$2"; shift 2
IFS=';' read -ra modes <<< "${MODES:---single-partition;--threads 1;--threads 2}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
status=0
for trace in "$@"; do
  for mode in "${modes[@]}"; do
    # shellcheck disable=SC2086  # a mode is several options
    "$a" $mode --no-latency --verdicts "$dir/a.txt" --json "$trace" > "$dir/a.json"
    # shellcheck disable=SC2086
    "$b" $mode --no-latency --verdicts "$dir/b.txt" --json "$trace" > "$dir/b.json"
    if ! python3 - "$dir/a.json" "$dir/b.json" <<'PY'
import json, sys
timing = ('pps', 'gbps', 'seconds', 'elapsed', 'memory', 'latency', 'resource', 'rss', 'wall', 'cpu',
          'look_ahead', 'barrier', 'taken_by', 'batch_service', 'date', 'duration', 'load')
def counters(value):
    if isinstance(value, dict):
        return {k: counters(v) for k, v in value.items() if not any(t in k for t in timing)}
    if isinstance(value, list):
        return [counters(v) for v in value]
    return value
a, b = (counters(json.load(open(path))) for path in sys.argv[1:3])
for key in sorted(set(a) | set(b)):
    if a.get(key) != b.get(key):
        print(f"  {key}: {str(a.get(key))[:160]} | {str(b.get(key))[:160]}")
sys.exit(a != b)
PY
    then
      echo "COUNTERS DIFFER: $trace $mode"; status=1
    fi
    if cmp -s "$dir/a.txt" "$dir/b.txt"; then
      echo "same: $trace $mode ($(wc -l < "$dir/a.txt") verdicts)"
    else
      echo "VERDICTS DIFFER: $trace $mode"; status=1
    fi
  done
done
exit $status
