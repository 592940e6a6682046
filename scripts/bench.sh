#!/usr/bin/env bash
# `make bench`: the bearer-validation benchmarks on memory and Redis, with
# allocations, and each figure as a ratio of the in-memory hot path measured
# in the same run (machines are shared and noisy: compare ratios, not ns).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh >/dev/null 2>&1 || echo "bench: some services are down; Redis benchmarks may skip"
export DEVICEGATE_TEST_REDIS="${DEVICEGATE_TEST_REDIS-127.0.0.1:6379}"
out=$(mktemp)
go test -run '^$' -bench 'Validate' -benchmem -count "${BENCH_COUNT:-3}" -benchtime "${BENCH_TIME:-1s}" ./app/ | tee "$out"
rc=${PIPESTATUS[0]}
echo
echo "median ns/op and ratio to memory/hot (same run):"
awk '/^BenchmarkValidate\// {
  name=$1; sub(/-[0-9]+$/, "", name); sub(/^BenchmarkValidate\//, "", name)
  v[name]=v[name] " " $3; n[name]++
}
END {
  for (k in v) { split(substr(v[k],2), a, " "); m=asort(a); med[k]=a[int((m+1)/2)] }
  base=med["memory/hot"]
  for (k in med) printf "  %-16s %12.0f ns/op  x%.1f\n", k, med[k], (base>0 ? med[k]/base : 0)
}' "$out" | sort
rm -f "$out"
exit "$rc"
