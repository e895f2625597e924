#!/usr/bin/env bash
# What lockstep costs on this machine by itself: two threads (pinned to the first two
# processors) run the same synthetic work, a high-IPC loop over a private buffer and table
# (~4 ns a step, like ctbench's packet path: loads, adds, a multiply, a table write), with and
# without a spinning barrier every STEPS steps. Equal work on both sides, so every barrier wait
# is the machine's doing: two vCPUs that do not run at the same speed, or jitter. The
# sharded datapath's barrier wait (ctbench's shards row) cannot go below this floor. The wait
# shares are measured within one run; the x-ratios compare runs a few seconds apart and carry
# the host's minute-to-minute noise.
# Usage: scripts/lockstep-floor.sh [ROUNDS]    (about 3 s a round)
set -euo pipefail
rounds=${1:-3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/lockstep.c" <<'C'
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static int threads, synced; static long steps, windows;
static _Atomic long arrived, round_;
static double waited[2];
static int cpu[2];
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static void meet(void) {
    long current = atomic_load(&round_);
    if (atomic_fetch_add(&arrived, 1) + 1 == threads) { atomic_store(&arrived, 0); atomic_store(&round_, current + 1); }
    else while (atomic_load(&round_) == current) {}
}
static void *work(void *arg) {
    int id = (int)(long)arg;
    cpu_set_t set; CPU_ZERO(&set); CPU_SET(cpu[id], &set); pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    uint8_t *buffer = aligned_alloc(64, 1 << 20); for (int i = 0; i < (1 << 20); i++) buffer[i] = (uint8_t)(i * 7 + id);
    uint64_t *table = aligned_alloc(64, 1 << 20); memset(table, 0, 1 << 20);
    uint64_t h = id + 1, sum = 0; size_t at = 0; double w = 0;
    for (long c = 0; c < windows; c++) {
        for (long k = 0; k < steps; k++) {
            uint64_t x; memcpy(&x, buffer + at, 8); at = (at + 72) & ((1 << 20) - 64);
            sum += (x & 0xffffffff) + (x >> 32);
            h = (h ^ x) * 0x9E3779B97F4A7C15ULL;
            table[(h >> 40) & ((1 << 17) - 1)] += sum;
        }
        if (synced) { double t = now(); meet(); w += now() - t; }
    }
    waited[id] = w;
    return (void *)(uintptr_t)(sum + h);
}
int main(int argc, char **argv) {
    threads = atoi(argv[1]); synced = atoi(argv[2]); steps = atol(argv[3]); windows = 400000000L / steps;
    cpu[0] = atoi(argv[4]); cpu[1] = atoi(argv[5]);
    pthread_t t[2]; double start = now();
    for (long i = 0; i < threads; i++) pthread_create(&t[i], 0, work, (void *)i);
    for (int i = 0; i < threads; i++) pthread_join(t[i], 0);
    double elapsed = now() - start;
    printf("%.1f %.3f %.3f\n", threads * 400.0 / elapsed, waited[0] / elapsed, waited[1] / elapsed);
    return 0;
}
C
cc -O2 -pthread -o "$dir/lockstep" "$dir/lockstep.c"
mapfile -t cpus < <(python3 -c 'import os; print(*sorted(os.sched_getaffinity(0))[:2], sep="\n")')
run() { "$dir/lockstep" "$@" "${cpus[0]}" "${cpus[1]}"; }
for r in $(seq 1 "$rounds"); do
    read -r one _ _ < <(run 1 0 2500)
    read -r free _ _ < <(run 2 0 2500)
    read -r short w0 w1 < <(run 2 1 2500)
    read -r long l0 l1 < <(run 2 1 20000)
    python3 -c "
one, free, short, long = $one, $free, $short, $long
print(f'round $r: one thread {one:.0f} Msteps/s, two without a barrier {free / one:.2f}x; '
      f'a barrier every ~10 µs: {short / one:.2f}x, waits {$w0:.1%} / {$w1:.1%} (mean {($w0 + $w1) / 2:.1%}); '
      f'every ~80 µs: {long / one:.2f}x, waits {$l0:.1%} / {$l1:.1%} (mean {($l0 + $l1) / 2:.1%})')"
done
