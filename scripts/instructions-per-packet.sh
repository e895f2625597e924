#!/usr/bin/env bash
# Instructions per packet per stage (parse, hash, prefetch, look-up, TCP update, checksum, ALG,
# dispatch), counted exactly by single-stepping a release ctbench under gdb
# (scripts/instructions-per-packet.py says how). For docs/PERFORMANCE.md: this VM has no
# instruction counters and valgrind cannot run ctbench. Needs gdb (`apt-get install gdb`).
#
#   scripts/instructions-per-packet.sh TRACE [SKIP [PACKETS]] [-- ctbench options]
#
# SKIP (default 60000): packets replayed at full speed first (tables warm, the flows in their
# steady state); PACKETS (default 30): packets stepped, one after another from there. About a
# second per packet. The binary is .build/release/ctbench (CTBENCH=path to use another); it
# runs with --single-partition --lazy-tables --no-latency and any options after `--`
# (REPLAY="--threads 1" replaces --single-partition: the lone shard's walk). Above an
# L2's worth of connections the walk's way is measured by timing (docs/DESIGN.md, look-ahead),
# which the stepping skews: pass `-- --look-ahead ring` (or direct) for counts of one way.
# MODE=unattributed lists the functions behind the "dispatch" stage instead (to refine the
# stage table in the .py); MODE=functions counts by function and caller, with each packet's TCP
# flags; MODE=byflag the same per kind of packet (its TCP flags); MODE=loop lists the replay
# loop's own instructions with their counts.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
trace="${1:?usage: instructions-per-packet.sh TRACE [SKIP [PACKETS]] [-- ctbench options]}"
shift
skip=60000
packets=30
if [[ $# -gt 0 && "$1" != "--" ]]; then skip="$1"; shift; fi
if [[ $# -gt 0 && "$1" != "--" ]]; then packets="$1"; shift; fi
[[ $# -gt 0 && "$1" == "--" ]] && shift
binary="${CTBENCH:-$root/.build/release/ctbench}"
command -v gdb > /dev/null || { echo "instructions-per-packet.sh: needs gdb" >&2; exit 2; }
[[ -x "$binary" ]] || { echo "instructions-per-packet.sh: no $binary (swift build -c release)" >&2; exit 2; }

# One call per packet marks where a packet starts: the TCP lane, which every parsed packet enters
# (the pipeline's `process` is inlined into the replay loop), in its form that reads the packet
# through a pointer (`SPy` in the symbol).
# It has two forms (without and with the look-ahead's entry guess); each packet enters one.
symbols="$(nm "$binary" | awk '/PartitionC15trackTCPSegment.*SPy/ {printf "%s\"%s\"", (n++ ? ", " : ""), $3}')"
[[ -n "$symbols" ]] || { echo "instructions-per-packet.sh: ConntrackPartition.trackTCPSegment not found in $binary" >&2; exit 2; }

script="$(mktemp)"
trap 'rm -f "$script"' EXIT
cat > "$script" <<EOF
set pagination off
set confirm off
source $root/scripts/instructions-per-packet.py
python start_at([$symbols], $skip)
run ${REPLAY:---single-partition} --lazy-tables --no-latency $* $trace > /dev/null
python ${MODE:-count}($packets)
kill
quit
EOF
gdb -q -batch -x "$script" "$binary" 2>&1 | sed -n '/^== instructions per packet ==$/,$p' | grep -v "^\[Inferior"
