package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/adapters/instrument"
	"github.com/devicegate/devicegate/adapters/memstore"
	"github.com/devicegate/devicegate/adapters/metrics"
	"github.com/devicegate/devicegate/adapters/redisstore"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
	"github.com/devicegate/devicegate/ports/porttest"
)

// BenchmarkValidateMetrics measures the bearer validation hot path (a
// cache hit) bare and as the service graph wires it with metrics on: the
// observer, the refusal-counting limiter, the instrumented token store and,
// on Redis, the instrumented cache and limiter (graph_observe.go). Compare
// each pair within one run:
//
//	go test -run '^$' -bench BenchmarkValidateMetrics -benchtime 300ms -count 5 ./cmd/devicegate/
//
// `make bench` runs it in rounds with the other figures and prints the ratios.
func BenchmarkValidateMetrics(b *testing.B) {
	for _, state := range []string{"memory", "redis"} {
		for _, withMetrics := range []bool{false, true} {
			name := state + "/plain"
			if withMetrics {
				name = state + "/metrics"
			}
			b.Run(name, func(b *testing.B) { benchValidate(b, state, withMetrics) })
		}
	}
}

func benchValidate(b *testing.B, state string, withMetrics bool) {
	ctx := context.Background()
	db, err := gormrepo.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	var (
		tokens  ports.TokenStore  = db
		cache   ports.TokenCache  = memstore.NewTokenCache()
		limiter ports.RateLimiter = memstore.NewRateLimiter()
		env                       = app.Env{}
	)
	if state == "redis" {
		addr := os.Getenv(porttest.RedisEnv)
		if addr == "" {
			b.Skip(porttest.RedisEnv + " is unset")
		}
		c, err := redisstore.NewClient("redis://" + addr + "/0")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(c.Close)
		prefix := randomName("dgbench") + ":"
		cache, limiter = redisstore.NewTokenCache(c, prefix), redisstore.NewRateLimiter(c, prefix)
	}
	if withMetrics {
		m := metrics.New()
		set := instrument.Set{m}
		tokens = instrument.Tokens(tokens, "sqlite", set)
		if state == "redis" {
			cache, limiter = instrument.Cache(cache, state, set), instrument.Limiter(limiter, state, set)
		}
		limiter = m.Limiter(limiter)
		env.Observe, env.Audit = m, m.AuditSink(env.Audit)
	}
	kinds := domain.DefaultKinds()
	minter := &app.Minter{Env: env, Tokens: tokens, Cache: cache, Kinds: kinds, TTL: 24 * time.Hour}
	auth := &app.Authenticator{Env: env, Kinds: kinds, Tokens: tokens, Expirer: tokens, Cache: cache,
		Limiter: limiter, Bucket: domain.RateBucket{Name: "bearer", Limit: 1 << 30, Window: time.Minute}, Enabled: true}
	got, err := minter.Mint(ctx, domain.Subject{Type: domain.SubjectAccount, Email: "bench@example.com",
		AccountID: "00000000-0000-4000-8000-000000000001"}, "difyctl", "bench")
	if err != nil {
		b.Fatal(err)
	}
	for range 3 { // warm every layer (Redis: the client-side cache)
		if _, err := auth.Validate(ctx, got.Token); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := auth.Validate(ctx, got.Token); err != nil {
			b.Fatal(err)
		}
	}
}
