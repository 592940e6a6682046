package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// TestTokenCachePreviousVersionValues: values the previous version wrote
// under the same keys (all JSON) during a rolling deploy are read as it
// meant them: its positive entry is served, this version's positive Put
// replaces it with posV1, and its negative entry still keeps a positive
// Put out.
func TestTokenCachePreviousVersionValues(t *testing.T) {
	c, prefix := newTestClient(t)
	tc := NewTokenCache(c, prefix)
	setRaw := func(hash string, e ports.CacheEntry) {
		t.Helper()
		old, err := json.Marshal(legacyDoc(e))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Do(t.Context(), c.B().Set().Key(tc.keys.token(hash)).Value(string(old)).Px(time.Minute).Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	pos := ports.CacheEntry{Token: codecTokens()[0]}
	hash := pos.Token.TokenHash
	setRaw(hash, pos)
	for range 3 { // fetched, then local, then remembered
		got, ok, err := tc.Get(t.Context(), hash)
		if err != nil || !ok {
			t.Fatalf("previous version's positive entry: ok=%v err=%v", ok, err)
		}
		sameEntry(t, "previous version's positive entry", pos, got)
	}
	mustPut(t, tc, hash, pos)
	raw, err := c.Do(t.Context(), c.B().Get().Key(tc.keys.token(hash)).Build()).ToString()
	if err != nil || raw == "" || raw[0] != posV1 {
		t.Fatalf("stored after Put: %q, %v; want posV1", raw, err)
	}
	got, ok, err := tc.Get(t.Context(), hash)
	if err != nil || !ok {
		t.Fatalf("after Put: ok=%v err=%v", ok, err)
	}
	sameEntry(t, "after Put", pos, got)

	neg := domain.HashSecret("dfoa_" + testPrefix())
	setRaw(neg, ports.CacheEntry{Negative: ports.CacheInvalid})
	mustPut(t, tc, neg, pos)
	if got, ok, err := tc.Get(t.Context(), neg); err != nil || !ok || got.Negative != ports.CacheInvalid {
		t.Fatalf("positive Put over the previous version's negative entry: %+v ok=%v err=%v; want it refused", got, ok, err)
	}
}

// TestTokenCacheOutage: with Redis frozen (SIGSTOP: connections accept,
// nothing answers), a wait bounded by a short opContext ends at its own
// deadline (rueidis arms it by selecting on Done), and a Get that needs the
// network and a Put fail with domain.ErrUnavailable within outageBound
// despite a 30 s caller context.
func TestTokenCacheOutage(t *testing.T) {
	t.Parallel() // mostly waiting on timeouts
	srv := startRedis(t, t.TempDir(), freePort(t))
	c, err := NewClient("redis://" + srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tc := NewTokenCache(c, "outage:")
	if err := srv.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer srv.cmd.Process.Signal(syscall.SIGCONT)
	const wait = 200 * time.Millisecond
	ctx, op := withLazyTimeout(t.Context(), wait)
	defer op.release()
	start := time.Now()
	err = c.DoCache(ctx, c.B().Get().Key("outage:other").Cache(), time.Minute).Error()
	// Ending at its own deadline, not at opTimeout or the caller's 30 s: the bound has slack for a loaded machine.
	if took := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || took > 3*wait+2*time.Second {
		t.Fatalf("GET on a frozen Redis under a 200 ms opContext: %v after %v; want its deadline", err, took)
	}

	hash := domain.HashSecret("dfoa_outage")
	failFast(t, "frozen", map[string]func(context.Context) error{
		"TokenCache.Get": func(ctx context.Context) error {
			_, _, err := tc.Get(ctx, hash)
			return err
		},
		"TokenCache.Put": func(ctx context.Context) error {
			return tc.Put(ctx, hash, ports.CacheEntry{Negative: ports.CacheInvalid}, time.Minute)
		},
	})
}
