#!/usr/bin/env bash
# Runs every fuzz target (func FuzzXxx in a _test.go file) for FUZZTIME
# (default 10s) each, one at a time; `go test` alone runs them over their
# seeds only. New failing inputs land in the package's testdata/fuzz/ and
# should be committed as regression seeds after the fix; the generated cache
# (GOCACHE/fuzz) is never committed.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-10s}"
status=0
while IFS=: read -r file line; do
	dir="./$(dirname "$file")"
	name="$(sed -E 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/' <<<"$line")"
	echo "== $dir $name ($FUZZTIME)"
	if ! go test "$dir" -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME"; then
		status=1
	fi
done < <(grep -rE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . | grep -v '^./\.' | sed 's|^\./||' | sort)
exit $status
