#!/usr/bin/env bash
# The machine's own scaling figure: how much more work two copies of a CPU-bound loop get done
# than one, on this machine, now (vCPUs on a shared host rarely give 2x). Prints the ratio
# (2.0 = perfect). Datapath scaling is read against this, measured in the same run.
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/spin.c" <<'C'
#include <stdint.h>
#include <stdio.h>
int main(void) {
    uint64_t h = 1;
    for (uint64_t i = 0; i < 600000000ULL; i++) h = (h ^ i) * 0x9E3779B97F4A7C15ULL;
    printf("%llu\n", (unsigned long long)(h & 1));
    return 0;
}
C
cc -O2 -o "$dir/spin" "$dir/spin.c"
now() { date +%s.%N; }
t0=$(now); "$dir/spin" > /dev/null; t1=$(now)
"$dir/spin" > /dev/null & "$dir/spin" > /dev/null & wait; t2=$(now)
python3 -c "one=$t1-$t0; two=$t2-$t1; print(f'one copy {one:.2f} s, two copies {two:.2f} s, ratio {2*one/two:.2f}')"
