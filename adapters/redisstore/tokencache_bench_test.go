package redisstore

import (
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// BenchmarkTokenCacheGet measures Get served from rueidis' local memory (a
// positive and a negative entry), the bearer-validation hot path, against
// the test Redis. Nothing asserts on time.
func BenchmarkTokenCacheGet(b *testing.B) {
	c, prefix := newTestClient(b)
	tc := NewTokenCache(c, prefix)
	now := time.Now()
	pos := ports.CacheEntry{Token: domain.AccessToken{ID: "0b5e4d9c-0f7a-4f7e-9d55-6a0c2b7f1e11", SubjectEmail: "bench@example.com",
		SubjectIssuer: domain.AccountIssuer, AccountID: "00000000-0000-4000-8000-000000000001", ClientID: "difyctl",
		DeviceLabel: "bench device", Prefix: domain.AccountTokenKind.Prefix, TokenHash: domain.HashSecret("dfoa_bench"),
		CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour)}}
	for _, bc := range []struct {
		name string
		e    ports.CacheEntry
	}{{"positive", pos}, {"negative", ports.CacheEntry{Negative: ports.CacheInvalid}}} {
		b.Run(bc.name, func(b *testing.B) {
			hash := domain.HashSecret("dfoa_" + bc.name + testPrefix())
			if err := tc.Put(b.Context(), hash, bc.e, time.Minute); err != nil {
				b.Fatal(err)
			}
			for range 2 { // the second Get is served locally
				if _, ok, err := tc.Get(b.Context(), hash); err != nil || !ok {
					b.Fatalf("Get: ok=%v err=%v", ok, err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, ok, err := tc.Get(b.Context(), hash); err != nil || !ok {
					b.Fatalf("Get: ok=%v err=%v", ok, err)
				}
			}
		})
	}
}
