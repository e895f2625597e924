#!/usr/bin/env python3
"""Compares two ctbench builds' throughput on one trace in A B B A order, the way the figures in
docs/PERFORMANCE.md and results/ are taken on this noisy host: each round runs A, B, B, A, so
the two ratios of a round are measured minutes apart at most, and the median of all the
rounds' ratios is what to quote (with each build's median and best).

    scripts/ab-pairs.py ROUNDS TRACE "CTBENCH OPTIONS" BUILD_A BUILD_B

e.g. scripts/ab-pairs.py 6 anchor.pcap "--threads 1 --loop 3" /tmp/ctbench-before \\
     .build/release/ctbench. Each run adds --json --no-latency and reads `pps`.
"""
import json
import shlex
import statistics
import subprocess
import sys


def mpps(build, options, trace):
    run = subprocess.run([build, *options, "--json", "--no-latency", trace],
                         capture_output=True, text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])["pps"] / 1e6


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    rounds, trace, options, a, b = int(sys.argv[1]), sys.argv[2], shlex.split(sys.argv[3]), sys.argv[4], sys.argv[5]
    a_runs, b_runs, ratios = [], [], []
    for r in range(1, rounds + 1):
        a1 = mpps(a, options, trace)
        b1 = mpps(b, options, trace)
        b2 = mpps(b, options, trace)
        a2 = mpps(a, options, trace)
        a_runs += [a1, a2]
        b_runs += [b1, b2]
        ratios += [b1 / a1, b2 / a2]
        print(f"round {r}: A {a1:.2f} {a2:.2f}  B {b1:.2f} {b2:.2f}", flush=True)
    print(f"median A {statistics.median(a_runs):.2f} B {statistics.median(b_runs):.2f} Mpps; "
          f"best A {max(a_runs):.2f} B {max(b_runs):.2f}; median ratio B/A {statistics.median(ratios):.3f} "
          f"({rounds} pairs)")


if __name__ == "__main__":
    main()
