package porttest

import (
	"fmt"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// TestTokenCache checks a ports.TokenCache: positive and negative entries
// round-trip (every AccessToken field; times at millisecond precision, zero
// stays zero), unknown hashes miss, Put replaces, Invalidate drops, a hash
// once invalidated or negative is never served as positive again, and an
// entry expires after its ttl (the one check here that waits in real time,
// under 3 s, since caches expire on the real clock). Hashes are random, so
// caches may share a backend.
func TestTokenCache(t *testing.T, newCache func(t *testing.T) ports.TokenCache) {
	t.Helper()
	cases := []struct {
		name string
		run  func(t *testing.T, c ports.TokenCache)
	}{
		{"PositiveRoundTrip", cachePositive},
		{"NegativeRoundTrip", cacheNegative},
		{"MissAndInvalidate", cacheInvalidate},
		{"NoResurrection", cacheNoResurrection},
		{"TTL", cacheTTL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newCache(t)) })
	}
}

// cacheTTLLong is long enough that no test sees an entry expire.
const cacheTTLLong = time.Minute

// cacheGet gets hash and fails t unless the hit/miss matches hit.
func cacheGet(t *testing.T, c ports.TokenCache, hash string, hit bool) ports.CacheEntry {
	t.Helper()
	e, ok, err := c.Get(t.Context(), hash)
	stWantErr(t, "Get", err, nil)
	if ok != hit {
		t.Fatalf("Get: hit = %v, want %v", ok, hit)
	}
	// A hit names the layer that answered it (metrics count validations by layer).
	if hit && e.Layer != ports.LayerLocal && e.Layer != ports.LayerShared {
		t.Fatalf("Get: a hit reports Layer %v, want local or shared", e.Layer)
	}
	return e
}

// cacheAssert fails t unless got restates want.
func cacheAssert(t *testing.T, what string, want, got ports.CacheEntry) {
	t.Helper()
	w, g := want.Token, got.Token
	if want.Negative != got.Negative {
		t.Fatalf("%s: Negative = %q, want %q", what, got.Negative, want.Negative)
	}
	times := [][2]time.Time{{w.CreatedAt, g.CreatedAt}, {w.LastUsedAt, g.LastUsedAt}, {w.ExpiresAt, g.ExpiresAt}, {w.RevokedAt, g.RevokedAt}}
	for _, p := range times {
		if !stSameTime(p[0], p[1]) {
			t.Fatalf("%s: token times differ:\nwant %+v\ngot  %+v", what, w, g)
		}
	}
	w.CreatedAt, w.LastUsedAt, w.ExpiresAt, w.RevokedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	g.CreatedAt, g.LastUsedAt, g.ExpiresAt, g.RevokedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if w != g {
		t.Fatalf("%s: token differs:\nwant %+v\ngot  %+v", what, want.Token, got.Token)
	}
}

// cacheToken returns a row with every field set (sub-second times).
func cacheToken() domain.AccessToken {
	now := stNow()
	id := stRandHex(8)
	return domain.AccessToken{
		ID: "tok-" + id, SubjectEmail: id + "@example.com", SubjectIssuer: domain.AccountIssuer,
		AccountID: "acct-" + id, ClientID: FlowClient, DeviceLabel: `porttest "device" ✓`,
		Prefix: domain.AccountTokenKind.Prefix, TokenHash: stRandHex(32),
		CreatedAt: now.Add(-time.Hour + 123*time.Millisecond), LastUsedAt: now.Add(-time.Minute + 456*time.Millisecond),
		ExpiresAt: now.Add(14*24*time.Hour + 789*time.Millisecond), RevokedAt: now.Add(-time.Second + time.Millisecond),
	}
}

// cachePositive: rows round-trip, with all fields set and with NULL-ish ones.
func cachePositive(t *testing.T, c ports.TokenCache) {
	full := ports.CacheEntry{Token: cacheToken()}
	ext := cacheToken()
	ext.AccountID, ext.SubjectIssuer, ext.Prefix = "", "https://idp.example.com", domain.ExternalTokenKind.Prefix
	ext.LastUsedAt, ext.RevokedAt = time.Time{}, time.Time{}
	for i, e := range []ports.CacheEntry{full, {Token: ext}} {
		stWantErr(t, "Put", c.Put(t.Context(), e.Token.TokenHash, e, cacheTTLLong), nil)
		cacheAssert(t, fmt.Sprint("entry ", i), e, cacheGet(t, c, e.Token.TokenHash, true))
	}
}

// cacheNegative: negative markers round-trip and replace positive entries.
func cacheNegative(t *testing.T, c ports.TokenCache) {
	for _, neg := range []ports.CacheNegative{ports.CacheInvalid, ports.CacheExpired} {
		h := stRandHex(32)
		e := ports.CacheEntry{Negative: neg}
		stWantErr(t, "Put", c.Put(t.Context(), h, e, cacheTTLLong), nil)
		cacheAssert(t, string(neg), e, cacheGet(t, c, h, true))
	}
	pos := ports.CacheEntry{Token: cacheToken()}
	h := pos.Token.TokenHash
	stWantErr(t, "Put positive", c.Put(t.Context(), h, pos, cacheTTLLong), nil)
	neg := ports.CacheEntry{Negative: ports.CacheExpired}
	stWantErr(t, "Put negative over positive", c.Put(t.Context(), h, neg, cacheTTLLong), nil)
	if got := cacheGet(t, c, h, true); got.Negative != ports.CacheExpired {
		t.Fatalf("after replacing: Negative = %q, want %q", got.Negative, ports.CacheExpired)
	}
}

// cacheInvalidate: unknown hashes miss; Invalidate drops one entry only.
func cacheInvalidate(t *testing.T, c ports.TokenCache) {
	cacheGet(t, c, stRandHex(32), false)
	stWantErr(t, "Invalidate unknown", c.Invalidate(t.Context(), stRandHex(32)), nil)
	a, b := ports.CacheEntry{Token: cacheToken()}, ports.CacheEntry{Token: cacheToken()}
	for _, e := range []ports.CacheEntry{a, b} {
		stWantErr(t, "Put", c.Put(t.Context(), e.Token.TokenHash, e, cacheTTLLong), nil)
		cacheGet(t, c, e.Token.TokenHash, true)
	}
	stWantErr(t, "Invalidate", c.Invalidate(t.Context(), a.Token.TokenHash), nil)
	cacheGet(t, c, a.Token.TokenHash, false)
	cacheAssert(t, "other entry", b, cacheGet(t, c, b.Token.TokenHash, true))
	stWantErr(t, "Invalidate twice", c.Invalidate(t.Context(), a.Token.TokenHash), nil)
}

// cacheNoResurrection: a hash that was invalidated (its token revoked or
// rotated away) or cached as negative never becomes valid again, so a
// positive Put that follows can only come from a read of the database that
// raced the revocation (read the live row; the revocation commits and
// invalidates; Put the row). Served, it would let a revoked token pass on
// every instance for the positive TTL. Such a Put must not be served: the
// cache keeps answering as it would have without it. Negative entries may
// still replace anything.
func cacheNoResurrection(t *testing.T, c ports.TokenCache) {
	stale := ports.CacheEntry{Token: cacheToken()}
	h := stale.Token.TokenHash
	stWantErr(t, "Put", c.Put(t.Context(), h, stale, cacheTTLLong), nil)
	stWantErr(t, "Invalidate", c.Invalidate(t.Context(), h), nil)
	stWantErr(t, "stale Put after Invalidate", c.Put(t.Context(), h, stale, cacheTTLLong), nil)
	cacheGet(t, c, h, false)
	neg := ports.CacheEntry{Negative: ports.CacheInvalid}
	stWantErr(t, "negative Put after Invalidate", c.Put(t.Context(), h, neg, cacheTTLLong), nil)
	cacheAssert(t, "negative after Invalidate", neg, cacheGet(t, c, h, true))

	for _, m := range []ports.CacheNegative{ports.CacheInvalid, ports.CacheExpired} {
		e := ports.CacheEntry{Token: cacheToken()}
		neg := ports.CacheEntry{Negative: m}
		stWantErr(t, "Put negative", c.Put(t.Context(), e.Token.TokenHash, neg, cacheTTLLong), nil)
		stWantErr(t, "stale positive Put over "+string(m), c.Put(t.Context(), e.Token.TokenHash, e, cacheTTLLong), nil)
		cacheAssert(t, "entry after a stale positive Put", neg, cacheGet(t, c, e.Token.TokenHash, true))
	}
}

// cacheTTL: an entry is served until its ttl and missed after it, within a
// bounded real-time wait.
func cacheTTL(t *testing.T, c ports.TokenCache) {
	const ttl = 1500 * time.Millisecond
	const slack = 100 * time.Millisecond // clock granularity of the backend
	e := ports.CacheEntry{Token: cacheToken()}
	h := e.Token.TokenHash
	long := ports.CacheEntry{Negative: ports.CacheInvalid}
	lh := stRandHex(32)
	stWantErr(t, "Put long", c.Put(t.Context(), lh, long, cacheTTLLong), nil)
	start := time.Now()
	stWantErr(t, "Put", c.Put(t.Context(), h, e, ttl), nil)
	cacheGet(t, c, h, true)
	deadline := start.Add(3*ttl + 2*time.Second) // slack for a loaded CI machine
	for {
		_, ok, err := c.Get(t.Context(), h)
		stWantErr(t, "Get", err, nil)
		if !ok {
			if el := time.Since(start); el < ttl-slack {
				t.Fatalf("entry with ttl %v gone after %v", ttl, el)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("entry with ttl %v still served after %v", ttl, time.Since(start))
		}
		time.Sleep(50 * time.Millisecond)
	}
	cacheGet(t, c, lh, true)
}
