package redisstore

import (
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// TestTokenCacheClientSideInvalidation proves the client-side caching
// contract with two separate clients (two instances of the service): A's
// second Get is served from A's memory; B's Invalidate reaches A through
// Redis' invalidation push, so A misses within a short bounded wait; B's
// Put of a new entry likewise replaces A's local copy.
func TestTokenCacheClientSideInvalidation(t *testing.T) {
	ca, prefix := newTestClient(t)
	cb, err := NewClient("redis://" + testRedisAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	a, b := NewTokenCache(ca, prefix), NewTokenCache(cb, prefix)
	hash := domain.HashSecret("dfoa_" + testPrefix())
	entry := ports.CacheEntry{Token: domain.AccessToken{ID: "tok-1", SubjectEmail: "a@example.com",
		SubjectIssuer: domain.AccountIssuer, AccountID: "acct-1", ExpiresAt: time.Now().Add(time.Hour)}}
	if err := b.Put(t.Context(), hash, entry, time.Minute); err != nil {
		t.Fatal(err)
	}

	if _, ok, local, err := a.get(t.Context(), hash); err != nil || !ok || local {
		t.Fatalf("A's first Get: ok=%v local=%v err=%v; want a hit fetched from Redis", ok, local, err)
	}
	got, ok, local, err := a.get(t.Context(), hash)
	if err != nil || !ok || !local {
		t.Fatalf("A's second Get: ok=%v local=%v err=%v; want a hit served from local memory", ok, local, err)
	}
	if got.Token.ID != "tok-1" {
		t.Fatalf("A's cached entry: %+v", got)
	}

	if err := b.Invalidate(t.Context(), hash); err != nil {
		t.Fatal(err)
	}
	waitCache(t, "A misses after B's Invalidate", func() bool {
		_, ok, _, err := a.get(t.Context(), hash)
		return err == nil && !ok
	})

	// Re-cache A, then B replaces the entry: A's copy is dropped as well.
	entry.Negative = ports.CacheInvalid
	if err := b.Put(t.Context(), hash, entry, time.Minute); err != nil {
		t.Fatal(err)
	}
	waitCache(t, "A sees B's Put", func() bool {
		e, ok, _, err := a.get(t.Context(), hash)
		return err == nil && ok && e.Negative == ports.CacheInvalid
	})
	if e, ok, local, err := a.get(t.Context(), hash); err != nil || !ok || !local || e.Negative != ports.CacheInvalid {
		t.Fatalf("A after re-caching: %+v ok=%v local=%v err=%v; want the new entry from local memory", e, ok, local, err)
	}
	entry.Negative = ports.CacheExpired
	if err := b.Put(t.Context(), hash, entry, time.Minute); err != nil {
		t.Fatal(err)
	}
	waitCache(t, "A's local copy replaced after B's second Put", func() bool {
		e, ok, _, err := a.get(t.Context(), hash)
		return err == nil && ok && e.Negative == ports.CacheExpired
	})
}

// waitCache polls cond every 10 ms for up to 5 s: invalidation is async
// (usually milliseconds; the slack is for a loaded CI machine).
func waitCache(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTokenCacheReadsOwnWrites: on one instance, a Get right after
// Invalidate or Put never serves the old local copy (the write's fence;
// see TokenCache.write). Many rounds, since a lost race is a timing matter.
func TestTokenCacheReadsOwnWrites(t *testing.T) {
	c, prefix := newTestClient(t)
	tc := NewTokenCache(c, prefix)
	for i := range 300 {
		hash := domain.HashSecret("dfoa_" + testPrefix())
		e := ports.CacheEntry{Token: domain.AccessToken{ID: "tok", TokenHash: hash}}
		if err := tc.Put(t.Context(), hash, e, time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, ok, _, err := tc.get(t.Context(), hash); err != nil || !ok {
			t.Fatalf("round %d: Get after Put: ok=%v err=%v", i, ok, err)
		}
		if _, ok, local, err := tc.get(t.Context(), hash); err != nil || !ok || !local {
			t.Fatalf("round %d: second Get: ok=%v local=%v err=%v; want a local hit", i, ok, local, err)
		}
		e.Negative = ports.CacheInvalid
		if err := tc.Put(t.Context(), hash, e, time.Minute); err != nil {
			t.Fatal(err)
		}
		if got, ok, _, err := tc.get(t.Context(), hash); err != nil || !ok || got.Negative != ports.CacheInvalid {
			t.Fatalf("round %d: Get right after a replacing Put: %+v ok=%v err=%v; want the new entry", i, got, ok, err)
		}
		if err := tc.Invalidate(t.Context(), hash); err != nil {
			t.Fatal(err)
		}
		if _, ok, local, err := tc.get(t.Context(), hash); err != nil || ok {
			t.Fatalf("round %d: Get right after Invalidate: ok=%v local=%v err=%v; want a miss", i, ok, local, err)
		}
	}
}

// TestTokenCacheReportsItsLayer proves Get names the layer that answered:
// the first read after a Put is a round trip (shared), the next is served
// from client-side caching (local). Metrics count validations by layer.
func TestTokenCacheReportsItsLayer(t *testing.T) {
	c, prefix := newTestClient(t)
	tc := NewTokenCache(c, prefix)
	hash := domain.HashSecret("dfoa_" + testPrefix())
	if err := tc.Put(t.Context(), hash, ports.CacheEntry{Token: domain.AccessToken{ID: "tok", TokenHash: hash}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	for i, want := range []ports.CacheLayer{ports.LayerShared, ports.LayerLocal} {
		e, ok, err := tc.Get(t.Context(), hash)
		if err != nil || !ok || e.Layer != want {
			t.Fatalf("Get #%d: ok=%v err=%v layer=%v, want %v", i+1, ok, err, e.Layer, want)
		}
	}
}
