package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/redisstore"
)

// Load benchmarks: a real listening devicegate (the `serve` fx graph) driven
// over loopback HTTP by loadClients concurrent clients sharing one transport.
// Read every figure as a ratio to the healthz figure of the same backend in
// the same run (scripts/bench.sh prints the table): machines are shared and
// noisy, so absolute ns/op mean little and nothing here asserts on timings.
// They only run with -bench (`make bench`); `go test ./...` never starts them.
//
// Figures, per backend (each answer's status is checked; one wrong status fails the figure):
//
//	healthz       GET /healthz: HTTP, middleware and access log only (the baseline)
//	authz-list    GET /openapi/v1/oauth/authorizations with one hot valid token: the bearer
//	              path from the cache, then the list queries (count + page) on the database
//	bearer-only   the same with ?limit=0: the whole bearer path, then the handler's 400
//	              before any query, so it isolates token validation over HTTP
//	invalid-token the same route with a well-formed unknown dfoa_ token: the negative cache
//	              (one database miss per NegativeCacheTTL, then cache hits), answered 401
//	device-code   POST /openapi/v1/oauth/device/code: the per-IP bucket, code generation and
//	              the flow write to the state store
//
// Not GET /me: its bucket (60/min per subject) is not configurable, so a run of
// tens of thousands of requests would mostly measure 429s, and rotating among
// enough accounts would need one account (an argon2id hash and a login) per 60
// requests of a b.N nobody knows in advance. /oauth/authorizations runs the same
// bearer middleware and a comparable database read with no per-subject bucket.
// OPENAPI_RATE_LIMIT_PER_TOKEN=0 for the same reason, so the bearer figures leave
// out the per-token bucket (a map operation in memory, one round trip on Redis);
// device-code keeps its per-IP bucket (one decision per request) by spreading
// clients over X-Forwarded-For addresses from a trusted 127.0.0.1, loadPerIP
// requests each, under the 60/h limit.
//
// B/op and allocs/op are process-wide (client, server and background workers
// share the process): compare them with healthz, not in absolute.

// loadClients is how many clients run concurrently in every figure.
const loadClients = 16

// loadPerIP is how many device-code requests share one forwarded client IP.
const loadPerIP = 50

const loadPassword = "correct horse battery"

// loadFigure is one request shape and the status every answer must have.
type loadFigure struct {
	name   string
	status int
	// request builds one request; it is called from many goroutines.
	request func() *http.Request
}

func BenchmarkLoad(b *testing.B) {
	backends := []struct {
		name string
		vars func(testing.TB) map[string]string
	}{
		{"sqlite-memory", sqliteVars},
		{"postgres-redis", postgresRedisVars},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			vars := be.vars(b)
			vars["OPENAPI_RATE_LIMIT_PER_TOKEN"] = "0"
			vars["TRUSTED_PROXIES"] = "127.0.0.1/32"
			createAccount(b, vars, "load@example.com", loadPassword, "Load")
			// The production default logger (text, info) on io.Discard: the access log's
			// formatting is part of every request's cost, the I/O is not.
			in := startInstanceLog(b, vars, slog.New(slog.NewTextHandler(io.Discard, nil)))
			token := deviceToken(b, in.Base, "load@example.com", loadPassword)
			client := loadClient(b)
			for _, f := range loadFigures(in.Base, token) {
				b.Run(f.name, func(b *testing.B) { runLoad(b, client, f) })
			}
		})
	}
}

// postgresRedisVars is the scaled-out configuration on the test Postgres and Redis.
func postgresRedisVars(tb testing.TB) map[string]string {
	dbURL := postgresSchema(tb)
	rURL, prefix := redisURL(tb)
	// Registered before the instance starts, so it runs after the instance stops.
	tb.Cleanup(func() { dropRedisPrefix(tb, rURL, prefix) })
	vars := map[string]string{"DATABASE_URL": dbURL, "REDIS_URL": rURL, "REDIS_KEY_PREFIX": prefix,
		"SECRET_KEY": "load-benchmark-secret-key-0123456789"}
	// serve migrates only the embedded SQLite file; Postgres is migrated by the operator.
	if err := run(context.Background(), []string{"migrate"}, testEnv(vars), io.Discard, io.Discard); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return vars
}

// dropRedisPrefix deletes every key under prefix: device-code leaves tens of
// thousands of flows (15 min TTL) and rate-limit logs (1 h) in the shared test
// Redis, which other suites' memory-pressure tests would otherwise inherit.
// The test Redis is standalone, so one UNLINK may name keys of several slots.
func dropRedisPrefix(tb testing.TB, redisURL, prefix string) {
	c, err := redisstore.NewClient(redisURL)
	if err != nil {
		tb.Logf("redis cleanup: %v", err)
		return
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for cursor := uint64(0); ; {
		e, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Match(prefix+"*").Count(1000).Build()).AsScanEntry()
		if err != nil {
			tb.Logf("redis cleanup: %v", err)
			return
		}
		if len(e.Elements) > 0 {
			if err := c.Do(ctx, c.B().Unlink().Key(e.Elements...).Build()).Error(); err != nil {
				tb.Logf("redis cleanup: %v", err)
				return
			}
		}
		if cursor = e.Cursor; cursor == 0 {
			return
		}
	}
}

func loadFigures(base, token string) []loadFigure {
	get := func(path, tok string) func() *http.Request {
		return func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, base+path, nil)
			if tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			return req
		}
	}
	var n atomic.Uint64 // device-code requests so far, across every b.N of the figure
	deviceCode := func() *http.Request {
		i := n.Add(1) / loadPerIP
		req, _ := http.NewRequest(http.MethodPost, base+"/openapi/v1/oauth/device/code",
			strings.NewReader("client_id=difyctl&device_label=load"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", byte(i>>16), byte(i>>8), byte(i)))
		return req
	}
	const authz = "/openapi/v1/oauth/authorizations"
	return []loadFigure{
		{"healthz", http.StatusOK, get("/healthz", "")},
		{"authz-list", http.StatusOK, get(authz, token)},
		{"bearer-only", http.StatusBadRequest, get(authz+"?limit=0", token)},
		{"invalid-token", http.StatusUnauthorized, get(authz, unknownToken())},
		{"device-code", http.StatusOK, deviceCode},
	}
}

// runLoad sends b.N requests of f from loadClients goroutines and reports req/s.
func runLoad(b *testing.B, client *http.Client, f loadFigure) {
	b.ReportAllocs()
	b.SetParallelism((loadClients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	var failed atomic.Int64
	var first atomic.Value
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if msg := send(client, f); msg != "" {
				failed.Add(1)
				first.CompareAndSwap(nil, msg)
			}
		}
	})
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%s: %d of %d requests failed; first: %s", f.name, n, b.N, first.Load())
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// send does one request and drains the answer so the connection is reused;
// it returns "" when the status is f.status, else what went wrong.
func send(client *http.Client, f loadFigure) string {
	resp, err := client.Do(f.request())
	if err != nil {
		return err.Error()
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != f.status {
		return fmt.Sprintf("status %d, want %d", resp.StatusCode, f.status)
	}
	return ""
}

// loadClient is one client with an idle pool large enough that every
// concurrent client keeps its connection (no dial or TIME_WAIT churn).
func loadClient(tb testing.TB) *http.Client {
	tr := &http.Transport{MaxIdleConns: 4 * loadClients, MaxIdleConnsPerHost: 4 * loadClients,
		IdleConnTimeout: time.Minute, DisableCompression: true}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// unknownToken is a well-formed account token that was never issued.
func unknownToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "dfoa_" + base64.RawURLEncoding.EncodeToString(b)
}

// deviceToken signs in through the device flow (code, console approval, one
// poll) and returns the access token.
func deviceToken(tb testing.TB, base, email, password string) string {
	tb.Helper()
	return signInDevice(tb, base, email, password, "load")
}
