#!/usr/bin/env bash
# Datapath scaling read against the machine's own scaling, measured in the same minutes:
# rounds of (two copies of a CPU-bound loop vs one; ctbench --threads 1; ctbench --threads 2;
# two ctbench --threads 1 processes at once, pinned to the processors the two shard threads
# use), then the medians. These vCPUs share a host: the machine ratio moves between 1.0 and
# 2.0 from one minute to the next, so only figures taken together mean anything.
#
# Two yardsticks. The C loop is a chain of dependent multiplies (about one instruction per
# cycle): it reads ~2.0 even when the two vCPUs slow each other down for ctbench, which runs at
# ~3.8 instructions per cycle (docs/PERFORMANCE.md, session 6: run together, the two vCPUs gave
# ctbench 8.4-13.4 Mpps each against 13.5 alone, while the loop read 1.97-1.99). The two
# ctbench processes are this very work with nothing shared (no windows, no barrier): their sum
# is what the workload itself gets from two vCPUs in that minute, and datapath/processes is the
# share of it the sharded datapath keeps. Both start together and load the same trace, but a
# load can end a few hundred milliseconds after the other's; so every run is timed as five
# passes of three loops (~0.15 s each on the anchor) and reports its median pass, which falls
# where both processes are timing.
# Usage: scripts/datapath-scaling.sh TRACE [ROUNDS] [extra ctbench options...]
set -euo pipefail
trace=${1:?usage: $0 TRACE [ROUNDS] [ctbench options]}
rounds=${2:-3}
shift $(( $# >= 2 ? 2 : 1 ))
options=("$@")
here=$(cd "$(dirname "$0")/.." && pwd)
ctbench="$here/.build/release/ctbench"
[ -x "$ctbench" ] || (cd "$here" && swift build -c release --product ctbench >/dev/null)
# The first two processors this process may use: where ctbench pins its two shard threads.
mapfile -t cpus < <(python3 -c 'import os; print(*sorted(os.sched_getaffinity(0))[:2], sep="\n")')
# run THREADS [PROCESSORS]: one ctbench run's JSON report (on PROCESSORS only, when given).
run() {
    local pin=()
    [ $# -ge 2 ] && pin=(taskset -c "$2")
    "${pin[@]}" "$ctbench" --threads "$1" --no-latency --loop 3 --passes 5 --json "${options[@]}" "$trace"
}
# pps: the rate of a report; with "waits", also each worker's barrier wait (one-sided waits:
# one vCPU ran slower in that run).
pps() {
    python3 -c '
import json, sys
d = json.load(sys.stdin)
waits = "/".join(f"{w:.0%}" for w in d["shards"]["barrier_wait_share_by_worker"])
print(d["pps"], waits if sys.argv[1:] == ["waits"] else "")' "$@"
}
machine() { "$here/scripts/cpu-scaling.sh" | sed 's/.*ratio //'; }
# The shard threads' processors' distance just before the --threads 2 run (scripts/vcpu-distance.sh).
distance() { "$here/scripts/vcpu-distance.sh" "${cpus[0]}" "${cpus[1]}"; }
# Two --threads 1 processes at once, each on one of the shard threads' processors: their sum.
pair() {
    local dir
    dir=$(mktemp -d)
    run 1 "${cpus[0]}" > "$dir/a" & run 1 "${cpus[1]}" > "$dir/b" & wait
    python3 -c "print($(pps < "$dir/a") + $(pps < "$dir/b"))"
    rm -rf "$dir"
}
mpps() { python3 -c "print(f'{$1/1e6:.2f}')"; }
results=()
for r in $(seq 1 "$rounds"); do
    m=$(machine); one=$(run 1 | pps); far=$(distance); read -r two waits < <(run 2 | pps waits); both=$(pair)
    echo "round $r: machine $m, --threads 1 $(mpps "$one") Mpps, --threads 2 $(mpps "$two") Mpps (waits $waits, vCPUs $far ns apart)," \
         "two processes $(mpps "$both") Mpps; ratios: datapath $(python3 -c "print(f'{$two/$one:.2f}')")," \
         "processes $(python3 -c "print(f'{$both/$one:.2f}')")"
    results+=("$m $one $two $both")
done
printf '%s\n' "${results[@]}" | python3 -c '
import sys, statistics as st
rows = [tuple(map(float, l.split())) for l in sys.stdin if l.strip()]
m = st.median(r[0] for r in rows); d = st.median(r[2] / r[1] for r in rows); p = st.median(r[3] / r[1] for r in rows)
print(f"median: machine ratio {m:.2f}, datapath ratio {d:.2f}, datapath/machine {d / m:.0%}")
print(f"        two processes ratio {p:.2f}, datapath/processes {d / p:.0%}")
print("per round datapath/machine:", ", ".join(f"{(r[2]/r[1])/r[0]:.0%}" for r in rows))
print("per round datapath/processes:", ", ".join(f"{(r[2]/r[3]):.0%}" for r in rows))'
