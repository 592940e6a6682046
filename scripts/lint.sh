#!/usr/bin/env bash
# `make lint`'s static checks beyond gofmt and go vet: golangci-lint v2 with the
# configuration in .golangci.yml (the standard linters, staticcheck among them,
# plus gosec, errorlint, bodyclose, noctx and contextcheck).
#
# The pinned version is built once from the Go module proxy into a cache folder
# outside the repository (a few minutes on a fresh machine) and reused after;
# set GOLANGCI_LINT to use another binary of the same version.
set -euo pipefail
cd "$(dirname "$0")/.."
version=v2.15.0
bin="${GOLANGCI_LINT:-${XDG_CACHE_HOME:-$HOME/.cache}/devicegate/golangci-lint-$version/golangci-lint}"
if ! "$bin" version 2>/dev/null | grep -q "version ${version#v} "; then
	echo "lint: installing golangci-lint $version into $(dirname "$bin")"
	GOBIN="$(dirname "$bin")" go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$version"
fi
exec "$bin" run ./...
