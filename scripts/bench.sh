#!/usr/bin/env bash
# `make bench`: two groups of Go benchmarks (then cmd/loadgen, at the end), each figure printed as its median
# ns/op and its ratio to its own group's baseline measured in the same run
# (machines are shared and noisy: compare ratios, not ns; nothing asserts on time).
#
#   validation  app: BenchmarkValidate, bearer validation on the memory and Redis
#               caches (hot, cold, invalid); baseline memory/hot.
#   metrics     cmd/devicegate: BenchmarkValidateMetrics, the bearer validation bare
#               and as wired with metrics on (memory and Redis); baseline <backend>/plain.
#   load        cmd/devicegate: BenchmarkLoad, a real listening server driven over
#               loopback HTTP by 16 concurrent clients (see cmd/devicegate/load_test.go);
#               baseline healthz on the same backend (sqlite-memory, postgres-redis).
#
# Figures run in rounds (each round: every validation figure, then every load
# figure, each once), so a noisy spell on the shared machine hits a figure and its
# baseline alike: a figure's ratio is the median over rounds of figure/baseline
# within the round, and its ns/op, req/s and allocs/op are medians over rounds.
#
# Knobs: BENCH_COUNT (rounds, default 3), BENCH_TIME (per validation figure, 700ms),
# LOAD_BENCH_TIME (per load figure, 1s). About 2 minutes on a 2-core machine
# once built. The Postgres/Redis figures need DEVICEGATE_TEST_POSTGRES and
# DEVICEGATE_TEST_REDIS (defaulting to the local services scripts/services.sh starts);
# set them empty to skip those figures.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh >/dev/null 2>&1 || echo "bench: some services are down; Postgres/Redis benchmarks may fail or skip"
export DEVICEGATE_TEST_POSTGRES="${DEVICEGATE_TEST_POSTGRES-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
export DEVICEGATE_TEST_REDIS="${DEVICEGATE_TEST_REDIS-127.0.0.1:6379}"
rounds="${BENCH_COUNT:-3}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# Build both test binaries first so compilation never overlaps a measurement.
go test -run '^$' -count=1 ./app/ ./cmd/devicegate/ >/dev/null || exit 1

rc=0
for round in $(seq 1 "$rounds"); do
  echo "== round $round/$rounds" | tee -a "$out"
  go test -run '^$' -bench '^BenchmarkValidate$' -benchmem -count 1 -benchtime "${BENCH_TIME:-700ms}" ./app/ | tee -a "$out"
  [ "${PIPESTATUS[0]}" = 0 ] || rc=1
  go test -run '^$' -bench '^BenchmarkLoad$' -benchmem -count 1 -benchtime "${LOAD_BENCH_TIME:-1s}" ./cmd/devicegate/ | tee -a "$out"
  [ "${PIPESTATUS[0]}" = 0 ] || rc=1
  go test -run '^$' -bench '^BenchmarkValidateMetrics$' -benchmem -count 1 -benchtime "${BENCH_TIME:-700ms}" ./cmd/devicegate/ | tee -a "$out"
  [ "${PIPESTATUS[0]}" = 0 ] || rc=1
done

# One row per figure, in first-seen order. Validation rows are "memory/hot"...;
# load rows are "<backend>/<figure>", whose baseline is "<backend>/healthz".
awk '
function median(list,   a, n, i, j, t) {
  n = split(substr(list, 2), a, " ")
  for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return n ? a[int((n + 1) / 2)] : ""
}
function baseline(key,   k, b) {
  split(key, k, SUBSEP)
  if (k[1] == "validation") return k[1] SUBSEP "memory/hot"
  if (k[1] == "metrics") { b = k[2]; sub(/\/[^\/]*$/, "/plain", b); return k[1] SUBSEP b }
  b = k[2]; sub(/\/[^\/]*$/, "", b)
  return k[1] SUBSEP b "/healthz"
}
/^== round / { round = $3; next }
/^Benchmark(Validate|Load|ValidateMetrics)\// {
  name = $1; sub(/-[0-9]+$/, "", name)
  group = (name ~ /^BenchmarkLoad\//) ? "load" : (name ~ /^BenchmarkValidateMetrics\//) ? "metrics" : "validation"
  sub(/^Benchmark(ValidateMetrics|Validate|Load)\//, "", name)
  key = group SUBSEP name
  if (!(key in seen)) { seen[key] = 1; order[++rows] = key }
  for (i = 3; i < NF; i += 2) vals[key, $(i + 1)] = vals[key, $(i + 1)] " " $i
  ns[key, round] = $3; rnds[round] = 1
}
END {
  for (r = 1; r <= rows; r++) {
    key = order[r]; split(key, k, SUBSEP); group = k[1]; name = k[2]; base = baseline(key)
    ratios = ""
    for (rd in rnds) if (((key, rd) in ns) && ((base, rd) in ns) && ns[base, rd] > 0) ratios = ratios " " ns[key, rd] / ns[base, rd]
    ratio = median(ratios); rps = median(vals[key, "req/s"])
    if (group != last) {
      if (group == "validation") printf "\nvalidation (app: bearer validation, in process), baseline memory/hot:\n"
      else if (group == "metrics") printf "\nmetrics (cmd/devicegate: bearer validation as wired with metrics on), baseline plain of the same backend:\n"
      else printf "\nload (cmd/devicegate: real server, 16 clients over loopback HTTP), baseline healthz of the same backend:\n"
      printf "  %-30s %14s %8s %10s %10s\n", "figure", "median ns/op", "ratio", "req/s", "allocs/op"
      last = group
    }
    printf "  %-30s %14.0f %8s %10s %10s\n", name, median(vals[key, "ns/op"]), (ratio == "" ? "-" : sprintf("x%.2f", ratio)),
      (rps == "" ? "-" : sprintf("%.0f", rps)), median(vals[key, "allocs/op"])
  }
  printf "\nratio = median over %d rounds of ns/op divided by the baseline'"'"'s ns/op in the same round\n", length(rnds)
}' "$out"

# Real load: cmd/loadgen drives the built devicegate (subprocesses on loopback
# ports, embedded default and Redis + Postgres) next to same-run floors, and
# prints every scenario as a ratio to its floor (docs/PERFORMANCE.md).
# Knobs: LOADGEN_DURATION (per scenario, 1s), LOADGEN_ROUNDS (3),
# LOADGEN_CONCURRENCY (1,4,32), LOADGEN_SCENARIOS, LOADGEN_BACKENDS
# (embedded,redis), ACCESS_LOG (devicegate's setting); LOADGEN_SCALE=1 adds a
# +scale twin per backend with full stores (LOADGEN_SCALE_TOKENS live token rows,
# 1000000; LOADGEN_SCALE_FLOWS pending flows, 100000) and the scale/empty report.
# The seeded flows live 15 minutes: with LOADGEN_SCALE, LOADGEN_CONCURRENCY=32 keeps
# the rounds well inside that (loadgen stops with an error if they would outlive it).
echo
echo "== loadgen"
CGO_ENABLED=0 go build -trimpath -o bin/devicegate ./cmd/devicegate || exit 1
go build -o bin/loadgen ./cmd/loadgen || exit 1
pg="${DEVICEGATE_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
rd="${DEVICEGATE_TEST_REDIS:-127.0.0.1:6379}"
bin/loadgen -devicegate bin/devicegate -postgres "$pg" -redis "$rd" \
  -duration "${LOADGEN_DURATION:-1s}" -rounds "${LOADGEN_ROUNDS:-3}" \
  -concurrency "${LOADGEN_CONCURRENCY:-1,4,32}" \
  ${LOADGEN_SCENARIOS:+-scenarios "$LOADGEN_SCENARIOS"} \
  ${LOADGEN_SCALE:+-scale -scale-tokens "${LOADGEN_SCALE_TOKENS:-1000000}" -scale-flows "${LOADGEN_SCALE_FLOWS:-100000}"} \
  -backends "${LOADGEN_BACKENDS:-embedded,redis}" || rc=1
exit "$rc"
