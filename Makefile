# devicegate: every target a newcomer needs. `make run` and `make test` are the README's two commands.
GO        ?= go
PKGS      := ./...

.PHONY: run build test test-short chaos fuzz bench check-deps lint fmt vet migrate clean

## run: serve on the embedded default (SQLite file ./data/devicegate.db + in-memory state) on :8080
run:
	$(GO) run ./cmd/devicegate serve

VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

## build: the binaries at bin/devicegate (the service; `bin/devicegate version` prints VERSION and COMMIT) and bin/devicectl (the reference CLI)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/devicegate ./cmd/devicegate
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/devicectl ./cmd/devicectl

## test: the static checks (lint), then every test, with -race, against real Postgres and Redis (started or installed when missing)
test: check-deps lint
	bash scripts/test.sh

## test-short: the tests that need no Postgres, Redis or cluster
test-short:
	$(GO) test -count=1 ./...

## chaos: 60 s, loopback only: 3 instances on a private Redis and Postgres cluster, 200 CLIs, random cuts, slowdowns and restarts; prints its invariants
chaos:
	DEVICEGATE_CHAOS_DURATION=$${DEVICEGATE_CHAOS_DURATION:-60s} DEVICEGATE_CHAOS_CLIS=$${DEVICEGATE_CHAOS_CLIS:-200} CI=true \
		$(GO) test -race -count=1 -timeout 15m -run '^TestChaos$$' -v ./cmd/devicegate

## fuzz: every fuzz target for FUZZTIME each (default 10s); plain `go test` runs their seeds
fuzz:
	bash scripts/fuzz.sh

## bench: the Go benchmarks, then cmd/loadgen's real load on the built binary (embedded and Redis/Postgres), each as ratios to same-run floors (docs/PERFORMANCE.md)
bench:
	bash scripts/bench.sh

## check-deps: domain, ports and app must not import echo, gorm, rueidis, jwx or fx
check-deps:
	bash scripts/check-deps.sh

## lint: gofmt, go vet and golangci-lint (.golangci.yml: staticcheck, gosec, errorlint, bodyclose, noctx, contextcheck, ...)
lint: fmt vet
	bash scripts/lint.sh

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

## migrate: apply migrations to DATABASE_URL
migrate:
	$(GO) run ./cmd/devicegate migrate

clean:
	rm -rf bin data
