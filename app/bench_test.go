package app_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/adapters/memstore"
	"github.com/devicegate/devicegate/adapters/redisstore"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
	"github.com/devicegate/devicegate/ports/porttest"
)

// Benchmarks of the bearer validation hot path (SPEC 3.4) on the embedded
// default (SQLite + memory cache) and on Redis (client-side cached) in front
// of SQLite. `make bench` runs them; compare within one run (see scripts/bench.sh).

func benchDB(b *testing.B) *gormrepo.DB {
	b.Helper()
	db, err := gormrepo.Open(context.Background(), "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return db
}

func benchCache(b *testing.B, backend string) ports.TokenCache {
	if backend == "memory" {
		return memstore.NewTokenCache()
	}
	addr := porttest.RequireEnv(b, porttest.RedisEnv)
	c, err := redisstore.NewClient("redis://" + addr + "/0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	return redisstore.NewTokenCache(c, "dgbench:"+time.Now().Format("150405.000000")+":")
}

func benchAuth(b *testing.B, backend string) (*app.Authenticator, *app.Minter) {
	db := benchDB(b)
	cache := benchCache(b, backend)
	env := app.Env{Rand: rand.Reader}
	kinds := domain.DefaultKinds()
	minter := &app.Minter{Env: env, Tokens: db, Cache: cache, Kinds: kinds, TTL: 24 * time.Hour}
	auth := &app.Authenticator{Env: env, Kinds: kinds, Tokens: db, Expirer: db, Cache: cache,
		Limiter: memstore.NewRateLimiter(), Bucket: domain.RateBucket{Name: "bearer"}, Enabled: true}
	return auth, minter
}

func mintN(b *testing.B, m *app.Minter, n int) []string {
	out := make([]string, n)
	for i := range out {
		got, err := m.Mint(context.Background(), domain.Subject{Type: domain.SubjectAccount, Email: "bench@example.com",
			AccountID: "00000000-0000-4000-8000-000000000001"}, "difyctl", "device "+string(rune('a'+i%26))+time.Now().Format(".000000000"))
		if err != nil {
			b.Fatal(err)
		}
		out[i] = got.Token
	}
	return out
}

func BenchmarkValidate(b *testing.B) {
	for _, backend := range []string{"memory", "redis"} {
		b.Run(backend+"/hot", func(b *testing.B) {
			auth, m := benchAuth(b, backend)
			tok := mintN(b, m, 1)[0]
			if _, err := auth.Validate(context.Background(), tok); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := auth.Validate(context.Background(), tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(backend+"/cold", func(b *testing.B) {
			auth, m := benchAuth(b, backend)
			toks := mintN(b, m, 256)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tok := toks[i%len(toks)]
				b.StopTimer()
				if err := auth.Cache.Invalidate(context.Background(), domain.HashSecret(tok)); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := auth.Validate(context.Background(), tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(backend+"/invalid", func(b *testing.B) {
			auth, _ := benchAuth(b, backend)
			tok, _ := domain.AccountTokenKind.NewToken(rand.Reader)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := auth.Validate(context.Background(), tok); err == nil {
					b.Fatal("an unknown token validated")
				}
			}
		})
	}
}
