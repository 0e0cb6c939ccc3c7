#!/usr/bin/env bash
# Benchmark kubefix against `kubectl config view --raw` on generated merged kubeconfigs.
#
#   scripts/bench.sh            sizes 500, 5000, 50000 contexts; 5 runs each (median)
#   scripts/bench.sh --smoke    500 contexts, 1 run, no ratio claims (CI smoke test)
#   SIZES="500 5000" RUNS=3 scripts/bench.sh
#   EXPIRED="5000" scripts/bench.sh    also rows (marked +) for files where a quarter of the
#                                       users hold an expired token (default: the middle size)
#
# Prints, per size: file size, median wall time of `kubefix --dry-run` (plan + full diff of
# every fix, output to /dev/null) and of `kubectl config view --raw`, their ratio, and
# kubefix's peak RSS (from /usr/bin/time or /proc) relative to the file size.
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=0
if [ "${1:-}" = "--smoke" ]; then smoke=1; fi
sizes=${SIZES:-"500 5000 50000"}
runs=${RUNS:-5}
if [ $smoke = 1 ]; then sizes=500; runs=1; fi

cargo build --release --quiet --bin kubefix --example gen_kubeconfig
bin=target/release/kubefix
gen=target/release/examples/gen_kubeconfig
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
# median wall time in seconds of "$@" over $runs runs (stdout discarded)
median() {
    local times=()
    for _ in $(seq "$runs"); do
        local t0 t1
        t0=$(now)
        "$@" >/dev/null 2>&1 || true
        t1=$(now)
        times+=("$(echo "$t1 - $t0" | bc -l)")
    done
    printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
# peak RSS in KiB of "$@"
peak_kib() {
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1
    else
        echo "n/a"
    fi
}

have_kubectl=0
command -v kubectl >/dev/null 2>&1 && have_kubectl=1

printf '%-9s %9s %12s %12s %8s %11s %8s\n' contexts "size MB" "kubefix s" "kubectl s" ratio "peak MB" "peak/size"
expired=${EXPIRED-$(echo "$sizes" | awk '{print $(int((NF+1)/2))}')}
if [ $smoke = 1 ]; then expired=""; fi
rows="$sizes"
for n in $expired; do rows="$rows ${n}+"; done

for row in $rows; do
    n=${row%+}
    f="$work/k$row.yaml"
    if [ "$row" = "$n" ]; then
        "$gen" "$n" "$f" 2>/dev/null
    else
        "$gen" "$n" "$f" --expired-tokens 2>/dev/null
    fi
    chmod 600 "$f" # a kubeconfig's usual mode; 0644 would add a file-permissions fix
    bytes=$(stat -c %s "$f")
    # sanity: kubefix must find the expected fixes (half the users are on v1alpha1)
    fixes=$("$bin" --kubeconfig "$f" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["fixable"])')
    if [ "$fixes" != "$((n / 2))" ]; then
        echo "unexpected number of fixes for $n contexts: $fixes" >&2
        exit 1
    fi
    tk=$(median "$bin" --dry-run --kubeconfig "$f")
    if [ $have_kubectl = 1 ]; then
        tc=$(median kubectl config view --raw --kubeconfig "$f")
        ratio=$(echo "$tk / $tc" | bc -l)
    else
        tc=n/a; ratio=n/a
    fi
    peak=$(peak_kib "$bin" --dry-run --kubeconfig "$f")
    peak_mb=$(echo "$peak / 1024" | bc -l)
    size_mb=$(echo "$bytes / 1048576" | bc -l)
    per=$(echo "$peak * 1024 / $bytes" | bc -l)
    printf '%-9s %9.1f %12.3f %12s %8s %11.1f %8.2f\n' "$row" "$size_mb" "$tk" \
        "$( [ "$tc" = n/a ] && echo n/a || printf '%.3f' "$tc")" \
        "$( [ "$ratio" = n/a ] && echo n/a || printf '%.3f' "$ratio")" "$peak_mb" "$per"
done
if [ $smoke = 1 ]; then echo "bench smoke test passed (no timing assertions)"; fi
