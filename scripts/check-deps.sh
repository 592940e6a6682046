#!/usr/bin/env bash
# Proves the dependency rule: domain, ports and app import none of the adapter libraries.
set -euo pipefail
cd "$(dirname "$0")/.."
forbidden='github.com/labstack/echo|gorm.io/|github.com/redis/rueidis|github.com/lestrrat-go/jwx|go.uber.org/fx|github.com/glebarez|github.com/jackc'
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
# The contract checker (kin-openapi, docs/contracttest), YAML and the Kubernetes API types are test tools: the binary links none.
testonly=$(go list -deps ./cmd/devicegate | grep -E '^(github.com/getkin/kin-openapi|go.yaml.in/yaml|gopkg.in/yaml|k8s.io/|github.com/devicegate/devicegate/docs/contracttest)' || true)
if [ -n "$testonly" ]; then echo "check-deps: the binary links test-only packages:"; echo "$testonly" | sed 's/^/  /'; status=1; fi
[ $status -eq 0 ] && echo "check-deps: ok (domain, ports, app are free of echo, gorm, rueidis, jwx, fx; only jwssigner imports jwx)"
exit $status
