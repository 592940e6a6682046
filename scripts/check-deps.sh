#!/usr/bin/env bash
# Proves the dependency rule: domain, ports and app import none of the adapter libraries.
set -euo pipefail
cd "$(dirname "$0")/.."
forbidden='github.com/labstack/echo|gorm.io/|github.com/redis/rueidis|github.com/lestrrat-go/jwx|go.uber.org/fx|github.com/glebarez|github.com/jackc|github.com/prometheus/|go.opentelemetry.io/'
status=0
for pkg in ./domain/... ./ports/... ./app/...; do
  # porttest is test support for adapters, but it too must stay library-free.
  bad=$(go list -deps "$pkg" | grep -E "^($forbidden)" || true)
  if [ -n "$bad" ]; then
    echo "check-deps: $pkg imports adapter libraries:"; echo "$bad" | sed 's/^/  /'
    status=1
  fi
done
# domain: standard library only.
nonstd=$(go list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' ./domain/... | grep -v '^github.com/devicegate/devicegate/domain' || true)
if [ -n "$nonstd" ]; then echo "check-deps: domain imports non-standard packages:"; echo "$nonstd" | sed 's/^/  /'; status=1; fi
# jwx belongs to adapters/jwssigner alone (cmd assembles it through jwssigner's module.go).
for pkg in $(go list ./adapters/... | grep -v '/adapters/jwssigner$'); do
  if go list -deps "$pkg" | grep '^github.com/lestrrat-go/jwx' >/dev/null; then
    echo "check-deps: $pkg imports jwx (only adapters/jwssigner may)"; status=1
  fi
done
# The backend decorators are library-free: metrics and tracing plug into them as probes.
bad=$(go list -deps ./adapters/instrument | grep -E '^(github.com/prometheus/|go.opentelemetry.io/)' || true)
if [ -n "$bad" ]; then echo "check-deps: adapters/instrument imports metrics or tracing libraries:"; echo "$bad" | sed 's/^/  /'; status=1; fi
# prometheus belongs to adapters/metrics alone; OpenTelemetry to adapters/tracing and adapters/otlpaudit.
for pkg in $(go list ./adapters/... | grep -v '/adapters/metrics$'); do
  if go list -deps "$pkg" | grep '^github.com/prometheus/' >/dev/null; then
    echo "check-deps: $pkg imports prometheus (only adapters/metrics may)"; status=1
  fi
done
for pkg in $(go list ./adapters/... | grep -vE '/adapters/(tracing|otlpaudit)$'); do
  if go list -deps "$pkg" | grep '^go.opentelemetry.io/' >/dev/null; then
    echo "check-deps: $pkg imports OpenTelemetry (only adapters/tracing and adapters/otlpaudit may)"; status=1
  fi
done
[ $status -eq 0 ] && echo "check-deps: ok (domain, ports, app are free of echo, gorm, rueidis, jwx, fx, prometheus, otel; only jwssigner imports jwx, only metrics prometheus, only tracing and otlpaudit otel)"
exit $status
