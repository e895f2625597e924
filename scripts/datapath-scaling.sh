#!/usr/bin/env bash
# Datapath scaling read against the machine's own scaling, measured in the same minutes:
# rounds of (two copies of a CPU-bound loop vs one; ctbench --threads 1; ctbench --threads 2),
# then the medians. These vCPUs share a host: the machine ratio moves between 1.0 and 2.0
# from one minute to the next, so only figures taken together mean anything.
# Usage: scripts/datapath-scaling.sh TRACE [ROUNDS] [extra ctbench options...]
set -euo pipefail
trace=${1:?usage: $0 TRACE [ROUNDS] [ctbench options]}
rounds=${2:-3}
shift $(( $# >= 2 ? 2 : 1 ))
here=$(cd "$(dirname "$0")/.." && pwd)
ctbench="$here/.build/release/ctbench"
[ -x "$ctbench" ] || (cd "$here" && swift build -c release --product ctbench >/dev/null)
pps() { "$ctbench" --threads "$1" --no-latency --loop 3 --json "${@:2}" "$trace" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pps"])'; }
machine() { "$here/scripts/cpu-scaling.sh" | sed 's/.*ratio //'; }
results=()
for r in $(seq 1 "$rounds"); do
    m=$(machine); one=$(pps 1 "$@"); two=$(pps 2 "$@")
    echo "round $r: machine $m, --threads 1 $(python3 -c "print(f'{$one/1e6:.2f}')") Mpps, --threads 2 $(python3 -c "print(f'{$two/1e6:.2f}')") Mpps, datapath ratio $(python3 -c "print(f'{$two/$one:.2f}')")"
    results+=("$m $one $two")
done
printf '%s\n' "${results[@]}" | python3 -c '
import sys, statistics as st
rows = [tuple(map(float, l.split())) for l in sys.stdin if l.strip()]
m = st.median(r[0] for r in rows); d = st.median(r[2] / r[1] for r in rows)
print(f"median: machine ratio {m:.2f}, datapath ratio {d:.2f}, datapath/machine {d / m:.0%}")
print("per round datapath/machine:", ", ".join(f"{(r[2]/r[1])/r[0]:.0%}" for r in rows))'
