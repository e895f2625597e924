#!/usr/bin/env bash
# Flow-table cost, taken together: rounds of the default pipeline, flows/default.flows and the
# two seed policies (clients on port 1, servers on port 2) over the same trace, one thread
# (--single-partition), then the medians. These vCPUs are shared: only figures taken in the
# same minutes compare.
# Usage: scripts/flow-table-bench.sh TRACE [ROUNDS]   (TRACE: e.g. `ctbench gen X --preset bench`)
set -euo pipefail
trace=${1:?usage: $0 TRACE [ROUNDS]}
rounds=${2:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
ctbench="$here/.build/release/ctbench"
[ -x "$ctbench" ] || (cd "$here" && swift build -c release --product ctbench >/dev/null)
# The generator's addresses: clients 10.0.0.0/8 and 2001:db8:c1::/64, servers 172.16.0.0/24 and 2001:db8:5::/64.
ports="1=10.0.0.0/8,2=172.16.0.0/24,1=2001:db8:c1::/64,2=2001:db8:5::/64"
configs=("default|" "default.flows|--flows $here/flows/default.flows"
         "seed-flows1|--flows $here/flows/seed-flows1.flows --in-port $ports"
         "seed-flows2|--flows $here/flows/seed-flows2.flows --in-port $ports")
pps() { # shellcheck disable=SC2086
    "$ctbench" --single-partition --no-latency --loop 3 --json $1 "$trace" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pps"])'; }
rows=()
for r in $(seq 1 "$rounds"); do
    line="round $r:"
    for c in "${configs[@]}"; do
        v=$(pps "${c#*|}")
        line+=" ${c%%|*} $(python3 -c "print(f'{$v/1e6:.2f}')")"
        rows+=("${c%%|*} $v")
    done
    echo "$line Mpps"
done
printf '%s\n' "${rows[@]}" | python3 -c '
import sys, statistics as st
by = {}
for l in sys.stdin:
    name, v = l.split(); by.setdefault(name, []).append(float(v))
base = st.median(by["default"])
for name, vs in by.items():
    m = st.median(vs)
    print(f"median {name:14} {m/1e6:6.2f} Mpps  {1e9/m:6.0f} ns/packet  {m/base:5.0%} of default")'
"$ctbench" --single-partition --no-latency --flows "$here/flows/seed-flows1.flows" --in-port "$ports" --json "$trace" \
    | python3 -c 'import json,sys; r=json.load(sys.stdin); print("seed-flows1 actions:", r["actions"], "states:", dict(sorted(r["states"].items(), key=lambda kv: -kv[1])[:5]))'
