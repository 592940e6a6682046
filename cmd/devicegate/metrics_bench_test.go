package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/adapters/instrument"
	"github.com/devicegate/devicegate/adapters/memstore"
	"github.com/devicegate/devicegate/adapters/metrics"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// BenchmarkValidateMetrics measures the bearer validation hot path (a
// memory-cache hit) bare and as the service graph wires it with metrics on
// (observer, counting limiter, instrumented cache, limiter and token store).
// Compare the two in one run:
//
//	go test -run '^$' -bench BenchmarkValidateMetrics -benchtime 300ms -count 5 ./cmd/devicegate/
func BenchmarkValidateMetrics(b *testing.B) {
	for _, withMetrics := range []bool{false, true} {
		name := "plain"
		if withMetrics {
			name = "metrics"
		}
		b.Run(name, func(b *testing.B) {
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
			if withMetrics {
				m := metrics.New()
				set := instrument.Set{m}
				tokens, cache = instrument.Tokens(tokens, "sqlite", set), instrument.Cache(cache, "memory", set)
				limiter = m.Limiter(instrument.Limiter(limiter, "memory", set))
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
			if _, err := auth.Validate(ctx, got.Token); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := auth.Validate(ctx, got.Token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
