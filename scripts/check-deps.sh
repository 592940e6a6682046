#!/usr/bin/env bash
# Proves the dependency rule: domain, ports and app import none of the adapter libraries.
set -euo pipefail
cd "$(dirname "$0")/.."
forbidden='github.com/labstack/echo|gorm.io/|github.com/redis/rueidis|github.com/lestrrat-go/jwx|go.uber.org/fx|github.com/glebarez|github.com/jackc|github.com/coreos/go-oidc|github.com/go-jose|github.com/prometheus/|go.opentelemetry.io/'
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
# go-oidc (and its go-jose) belong to adapters/oidcrelay alone (cmd assembles it through its module.go).
for pkg in $(go list ./adapters/... | grep -v '/adapters/oidcrelay$'); do
  if go list -deps "$pkg" | grep -E '^github.com/(coreos/go-oidc|go-jose)' >/dev/null; then
    echo "check-deps: $pkg imports go-oidc or go-jose (only adapters/oidcrelay may)"; status=1
  fi
done
# devicectl is a client of the public API only: the standard library, oauth2, a QR encoder, x/term.
ctl=$(go list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' ./cmd/devicectl/... |
  grep -Ev '^(github.com/devicegate/devicegate/cmd/devicectl($|/)|golang.org/x/oauth2($|/)|golang.org/x/term$|golang.org/x/sys/|github.com/skip2/go-qrcode($|/))' || true)
if [ -n "$ctl" ]; then echo "check-deps: cmd/devicectl imports more than its public-API client may:"; echo "$ctl" | sed 's/^/  /'; status=1; fi
# The contract checker (kin-openapi, docs/contracttest), YAML and the Kubernetes API types are test tools: the binary links none.
testonly=$(go list -deps ./cmd/devicegate | grep -E '^(github.com/getkin/kin-openapi|go.yaml.in/yaml|gopkg.in/yaml|k8s.io/|github.com/devicegate/devicegate/docs/contracttest)' || true)
if [ -n "$testonly" ]; then echo "check-deps: the binary links test-only packages:"; echo "$testonly" | sed 's/^/  /'; status=1; fi
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
[ $status -eq 0 ] && echo "check-deps: ok (domain, ports, app are free of echo, gorm, rueidis, jwx, go-oidc, fx, prometheus, otel; only jwssigner imports jwx, only oidcrelay go-oidc, only metrics prometheus, only tracing and otlpaudit otel; devicectl imports no server package)"
exit $status
