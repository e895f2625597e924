#!/usr/bin/env bash
# How far apart two processors are, now: the one-way time of a cache line handed back and forth
# between two threads pinned to them (a C ping-pong, 200,000 round trips). Prints nanoseconds.
# On this shared VM kind it reads ~30 ns most of the time and ~160-260 ns at others, when the
# host runs the two vCPUs far apart; `--threads 2` is slow then (docs/PERFORMANCE.md, session 7).
#
#   scripts/vcpu-distance.sh [CPU_A CPU_B]      (default: the first two this process may use)
set -euo pipefail
if [ $# -ge 2 ]; then a=$1; b=$2; else
    mapfile -t cpus < <(python3 -c 'import os; print(*sorted(os.sched_getaffinity(0))[:2], sep="\n")')
    a=${cpus[0]}; b=${cpus[1]}
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/pingpong.c" <<'C'
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
enum { rounds = 200000 };
static _Alignas(128) atomic_int flag;
static int cpu_a, cpu_b;
static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}
static void *answer(void *unused) {
    (void)unused;
    pin(cpu_b);
    for (int i = 0; i < rounds; i++) {
        while (atomic_load_explicit(&flag, memory_order_acquire) != 1) {}
        atomic_store_explicit(&flag, 0, memory_order_release);
    }
    return NULL;
}
int main(int argc, char **argv) {
    cpu_a = atoi(argv[1]);
    cpu_b = atoi(argv[2]);
    pthread_t other;
    pthread_create(&other, NULL, answer, NULL);
    pin(cpu_a);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < rounds; i++) {
        atomic_store_explicit(&flag, 1, memory_order_release);
        while (atomic_load_explicit(&flag, memory_order_acquire) != 0) {}
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    pthread_join(other, NULL);
    double ns = (end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec);
    printf("%.0f\n", ns / rounds / 2);
    return 0;
}
C
cc -O2 -pthread -o "$dir/pingpong" "$dir/pingpong.c"
"$dir/pingpong" "$a" "$b"
