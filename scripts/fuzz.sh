#!/usr/bin/env bash
# Runs every fuzz target (func FuzzXxx in a _test.go file) for FUZZTIME
# (default 10s) each, one at a time; `go test` alone runs them over their
# seeds only. A failing input lands in the package's testdata/fuzz/<target>/
# and should be committed as a regression seed with the fix; the generated
# cache (GOCACHE/fuzz) is never committed.
#
# Go 1.26's fuzz coordinator can report a bare "context deadline exceeded"
# when -fuzztime runs out while a worker is busy (go.dev/issue/75804, fixed in
# Go 1.27), more often on a loaded machine. Such a run wrote no failing input,
# so it is counted as a flake, not a failure; any other failure fails make fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-10s}"
failed=0 flaked=0 passed=0
while IFS=: read -r file line; do
	dir="./$(dirname "$file")"
	name="$(sed -E 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/' <<<"$line")"
	corpus="$dir/testdata/fuzz/$name"
	before="$(ls "$corpus" 2>/dev/null | sort || true)"
	echo "== $dir $name ($FUZZTIME)"
	out="$(mktemp)"
	if go test "$dir" -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" 2>&1 | tee "$out" | grep -v '^fuzz: elapsed' ; [ "${PIPESTATUS[0]}" -eq 0 ]; then
		passed=$((passed + 1))
	elif [ "$(ls "$corpus" 2>/dev/null | sort || true)" = "$before" ] && grep -q 'context deadline exceeded' "$out"; then
		echo "   (flake: the fuzz deadline race of Go 1.26, no failing input written)"
		flaked=$((flaked + 1))
	else
		failed=$((failed + 1))
	fi
	grep '^fuzz: elapsed' "$out" | tail -1 || true
	rm -f "$out"
done < <(grep -rE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . | grep -v '^\./\.' | sed 's|^\./||' | sort)
echo "fuzz: $passed passed, $failed failed, $flaked flaked"
[ "$failed" -eq 0 ]
