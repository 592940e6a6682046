#!/usr/bin/env bash
# `make test`: bring up Postgres and Redis (scripts/services.sh), point the tests at
# them, run every Go test with the race detector, and print a summary.
# With CI=true a missing service fails the run; locally its tests skip and say
# which variable to set.
set -uo pipefail
cd "$(dirname "$0")/.."

if bash scripts/services.sh; then services=ok; else services=down; fi
export DEVICEGATE_TEST_POSTGRES="${DEVICEGATE_TEST_POSTGRES-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
export DEVICEGATE_TEST_REDIS="${DEVICEGATE_TEST_REDIS-127.0.0.1:6379}"
if [ "$services" != ok ] && [ "${CI:-}" != true ]; then
  echo "test: some services are down; their tests will fail (set DEVICEGATE_TEST_POSTGRES= / DEVICEGATE_TEST_REDIS= empty to skip them locally)"
fi

out=$(mktemp)
go test -race -count=1 -timeout 20m ./... 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
passed=$(grep -cE '^ok\s' "$out" || true)
failed=$(grep -cE '^(FAIL|---\s*FAIL)\s|^FAIL$' "$out" || true)
nopkg=$(grep -cE '^\?\s' "$out" || true)
echo
echo "($nopkg packages have no tests)"
echo "packages: $passed passed, $failed failed"
rm -f "$out"
exit "$rc"
