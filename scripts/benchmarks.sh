#!/usr/bin/env bash
# Hot-path benchmarks (Benchmarks/, ordo-one/package-benchmark), checked against the static
# thresholds committed in Benchmarks/Thresholds/.
#
#   scripts/benchmarks.sh                      run every benchmark once (release), print the
#                                              results, then check them against the thresholds:
#                                              exits non-zero on a regression (e.g. a malloc on
#                                              a path that must not allocate)
#   scripts/benchmarks.sh --filter 'Conntrack.*'   the same for some benchmarks (any benchmark option)
#   scripts/benchmarks.sh update-thresholds    rerun and rewrite Benchmarks/Thresholds/ (review the diff!)
#   scripts/benchmarks.sh memory [N]           resident bytes per connection with N (1,000,000) connections
#
# Works from a fresh clone: the benchmark package resolves its dependencies and builds itself
# (release) on first use. Figures per packet: the tables show one iteration = 1,000 packets.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
pkg=(swift package --package-path Benchmarks)
thresholds="$root/Benchmarks/Thresholds"
baseline=benchmarks_sh   # stored in Benchmarks/.benchmarkBaselines/ (ignored by git)

case "${1:-run}" in
  update-thresholds)
    shift
    # Only the metrics we gate on go into the files: a metric present in a file is checked, and
    # one without a tolerance in the code would be checked with none.
    "${pkg[@]}" --allow-writing-to-package-directory benchmark thresholds update \
      --path "$thresholds" --metric mallocCountTotal --metric wallClock --no-progress "$@"
    # package-benchmark 1.38.1 writes "ConntrackEstablished/1k" as "...ConntrackEstablished_1k.p90.json"
    # but reads "<target>.<name>.p90.json" with the name as is, i.e. a subdirectory: move the files
    # there, or those benchmarks would go unchecked. (Our benchmark names use no other "_".)
    for f in "$thresholds"/*.*_*.p90.json; do
      [ -e "$f" ] || continue
      file="$(basename "$f")"
      target="${file%%.*}"
      name="${file#*.}"; name="${name%.p90.json}"; name="${name//_//}"
      mkdir -p "$(dirname "$thresholds/$target.$name")"
      mv "$f" "$thresholds/$target.$name.p90.json"
    done
    echo "benchmarks.sh: thresholds rewritten in Benchmarks/Thresholds/; review with git diff"
    ;;
  memory)
    shift
    swift run -c release --package-path Benchmarks MemoryPerConnection "$@"
    ;;
  run | -*)
    [ "${1:-}" = run ] && shift
    # One run, stored as a baseline, printed, then checked (no second run for the check).
    "${pkg[@]}" --allow-writing-to-package-directory benchmark baseline update "$baseline" \
      --no-progress --quiet "$@"
    "${pkg[@]}" benchmark baseline read "$baseline" --scale --time-units nanoseconds "$@"
    set +e
    "${pkg[@]}" benchmark thresholds check "$baseline" --path "$thresholds" --no-progress "$@"
    status=$?
    set -e
    case $status in
      0) echo "benchmarks.sh: within thresholds" ;;
      4) echo "benchmarks.sh: better than thresholds (consider scripts/benchmarks.sh update-thresholds)"; status=0 ;;
      *) echo "benchmarks.sh: REGRESSION against Benchmarks/Thresholds (exit $status)" >&2 ;;
    esac
    exit $status
    ;;
  *)
    sed -n '2,15p' "${BASH_SOURCE[0]}" >&2
    exit 64
    ;;
esac
