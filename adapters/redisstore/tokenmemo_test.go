package redisstore

import (
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// memoEntryFor is a positive entry naming hash and id, so an answer for the
// wrong hash or an old value shows.
func memoEntryFor(hash, id string) ports.CacheEntry {
	return ports.CacheEntry{Token: domain.AccessToken{ID: id, TokenHash: hash, Prefix: domain.AccountTokenKind.Prefix,
		AccountID: "acct", ExpiresAt: time.Now().Add(time.Hour).UTC()}}
}

// TestTokenMemoFollowsRedis: once A remembers a hash, every change B makes
// through Redis (a replacing Put, Invalidate, a negative Put) reaches A's
// answers as before, and A's own writes are read at once: the memo never
// answers from a value rueidis no longer returns.
func TestTokenMemoFollowsRedis(t *testing.T) {
	ca, prefix := newTestClient(t)
	cb, err := NewClient("redis://" + testRedisAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	a, b := NewTokenCache(ca, prefix), NewTokenCache(cb, prefix)
	hash := domain.HashSecret("dfoa_" + testPrefix())
	mustPut(t, b, hash, memoEntryFor(hash, "v1"))
	for range 2 {
		if e, ok, _, err := a.get(t.Context(), hash); err != nil || !ok || e.Token.ID != "v1" {
			t.Fatalf("A's Get: %+v ok=%v err=%v", e, ok, err)
		}
	}
	if m := a.memo.lookup(hash); m == nil || m.entry.Token.ID != "v1" {
		t.Fatalf("A did not remember the hash after a local hit: %+v", m)
	}
	if e, ok, local, err := a.get(t.Context(), hash); err != nil || !ok || !local || e.Token.ID != "v1" {
		t.Fatalf("A's remembered Get: %+v ok=%v local=%v err=%v", e, ok, local, err)
	}

	mustPut(t, b, hash, memoEntryFor(hash, "v2"))
	waitCache(t, "A sees B's replacing Put", func() bool {
		e, ok, _, err := a.get(t.Context(), hash)
		return err == nil && ok && e.Token.ID == "v2"
	})
	if err := b.Invalidate(t.Context(), hash); err != nil {
		t.Fatal(err)
	}
	waitCache(t, "A misses after B's Invalidate", func() bool {
		_, ok, _, err := a.get(t.Context(), hash)
		return err == nil && !ok
	})
	mustPut(t, a, hash, memoEntryFor(hash, "stale")) // refused: the hash was invalidated
	if _, ok, _, err := a.get(t.Context(), hash); err != nil || ok {
		t.Fatalf("A after its own stale Put: ok=%v err=%v; want a miss", ok, err)
	}
	mustPut(t, b, hash, ports.CacheEntry{Negative: ports.CacheExpired})
	waitCache(t, "A sees B's negative Put", func() bool {
		e, ok, _, err := a.get(t.Context(), hash)
		return err == nil && ok && e.Negative == ports.CacheExpired
	})
}

// mustPut puts e for hash or fails t.
func mustPut(t *testing.T, c *TokenCache, hash string, e ports.CacheEntry) {
	t.Helper()
	if err := c.Put(t.Context(), hash, e, time.Minute); err != nil {
		t.Fatal(err)
	}
}

// TestTokenMemoCollision: two hashes sharing a slot each get their own
// entry, whichever one the slot remembers.
func TestTokenMemoCollision(t *testing.T) {
	c, prefix := newTestClient(t)
	tc := NewTokenCache(c, prefix)
	h1 := domain.HashSecret(rand.Text())
	h2 := ""
	for i := 0; h2 == ""; i++ {
		if h := domain.HashSecret(rand.Text()); tc.memo.slot(h) == tc.memo.slot(h1) {
			h2 = h
		}
		if i > 1<<20 {
			t.Fatal("no colliding hash found")
		}
	}
	mustPut(t, tc, h1, memoEntryFor(h1, "one"))
	mustPut(t, tc, h2, memoEntryFor(h2, "two"))
	for _, h := range []string{h1, h2, h2, h1, h1, h2, h1} {
		e, ok, err := tc.Get(t.Context(), h)
		if err != nil || !ok || e.Token.TokenHash != h {
			t.Fatalf("Get(%s…): %+v ok=%v err=%v", h[:8], e, ok, err)
		}
	}
}

// TestTokenMemoConcurrent races readers of a few hashes on one instance
// against a writer replacing them, then caching one as negative and
// invalidating another (run with -race): no answer ever carries another
// hash's entry, and once the writer stops every hash reads its last write.
func TestTokenMemoConcurrent(t *testing.T) {
	c, prefix := newTestClient(t)
	tc := NewTokenCache(c, prefix)
	hashes := make([]string, 4)
	for i := range hashes {
		hashes[i] = domain.HashSecret(rand.Text())
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for r := range 4 {
		wg.Go(func() {
			for i := r; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				h := hashes[i%len(hashes)]
				e, ok, err := tc.Get(t.Context(), h)
				if err == nil && ok && e.Negative == ports.CacheHit && e.Token.TokenHash != h {
					err = errors.New("an answer for " + h[:8] + " carried " + e.Token.TokenHash)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// Positive entries replace each other; a negative one or an
	// invalidation is final (a positive Put over it is refused), so those
	// come last.
	last := make(map[string]ports.CacheEntry)
	for round := range 60 {
		for _, h := range hashes {
			last[h] = memoEntryFor(h, "r"+itoa(round))
			mustPut(t, tc, h, last[h])
		}
	}
	last[hashes[0]] = ports.CacheEntry{Negative: ports.CacheInvalid}
	mustPut(t, tc, hashes[0], last[hashes[0]])
	if err := tc.Invalidate(t.Context(), hashes[1]); err != nil {
		t.Fatal(err)
	}
	delete(last, hashes[1])
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, h := range hashes {
		want, hit := last[h]
		got, ok, err := tc.Get(t.Context(), h)
		if err != nil || ok != hit || got.Negative != want.Negative || got.Token.ID != want.Token.ID {
			t.Fatalf("after the writer: %+v ok=%v err=%v; want %+v ok=%v", got, ok, err, want, hit)
		}
	}
}
