package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/memstore"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
	"github.com/devicegate/devicegate/ports/porttest"
)

// TestFlowsCopies: callers never share the stored subject (Redis serialises;
// a map of pointers must copy).
func TestFlowsCopies(t *testing.T) {
	s, ctx, now := memstore.NewFlows(), t.Context(), time.Now()
	f := porttest.NewFlow(t, now)
	if err := s.Create(ctx, f); err != nil {
		t.Fatal(err)
	}
	subj := domain.Subject{Type: domain.SubjectAccount, Email: "a@example.com", Workspaces: []domain.Workspace{{ID: "w1"}}}
	got, err := s.Decide(ctx, f.UserCode, domain.Decision{Approve: true, Subject: &subj}, now)
	if err != nil {
		t.Fatal(err)
	}
	subj.Workspaces[0].ID = "changed-by-caller"
	got.Subject.Workspaces[0].ID = "changed-by-caller"
	got.Subject.Email = "changed-by-caller"
	stored, err := s.ByUserCode(ctx, f.UserCode, now)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Subject.Workspaces[0].ID != "w1" || stored.Subject.Email != "a@example.com" {
		t.Fatalf("stored subject changed through a caller's copy: %+v", stored.Subject)
	}
	stored.Subject.Workspaces[0].ID = "changed-by-caller"
	claimed, err := s.Poll(ctx, f.DeviceCodeHash, domain.PollRequest{ClientID: porttest.FlowClient, ClaimID: "c1"}, now)
	if err != nil {
		t.Fatal(err)
	}
	claimed.Subject.Workspaces[0].ID = "changed-by-caller"
	if again, _ := s.ByUserCode(ctx, f.UserCode, now); again.Subject.Workspaces[0].ID != "w1" {
		t.Fatalf("stored subject changed through a caller's copy: %+v", again.Subject)
	}
}

// TestFlowsExpiryFreesMemory: expired flows give up their user code and are
// removed by Sweep, by the amortised sweep in Create and by the janitor.
func TestFlowsExpiryFreesMemory(t *testing.T) {
	s, ctx, now := memstore.NewFlows(), t.Context(), time.Now()
	old := porttest.NewFlow(t, now.Add(-domain.FlowLifetime-time.Second)) // expired on the real clock
	if err := s.Create(ctx, old); err != nil {
		t.Fatal(err)
	}
	reuse := porttest.NewFlow(t, now)
	reuse.UserCode = old.UserCode
	if err := s.Create(ctx, reuse); err != nil {
		t.Fatalf("Create over an expired flow's user code: %v", err)
	}
	if _, err := s.Poll(ctx, old.DeviceCodeHash, domain.PollRequest{ClientID: porttest.FlowClient, ClaimID: "x"}, now); !errors.Is(err, domain.ErrExpiredToken) {
		t.Fatalf("poll the replaced flow: %v", err)
	}
	if s.Len() != 1 {
		t.Fatalf("Len = %d, want 1", s.Len())
	}
	if n := s.Sweep(now.Add(domain.FlowLifetime)); n != 1 || s.Len() != 0 {
		t.Fatalf("Sweep removed %d, Len %d; want 1, 0", n, s.Len())
	}
	if _, err := s.ByUserCode(ctx, reuse.UserCode, now); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("ByUserCode after Sweep: %v", err)
	}
	for i := 0; i < 1000; i++ {
		if err := s.Create(ctx, porttest.NewFlow(t, now.Add(-domain.FlowLifetime))); err != nil {
			t.Fatal(err)
		}
	}
	if s.Len() >= 256 {
		t.Fatalf("Len = %d after 1000 expired creates, want < 256 (amortised sweep)", s.Len())
	}
	if err := s.Create(ctx, porttest.NewFlow(t, now.Add(-domain.FlowLifetime))); err != nil {
		t.Fatal(err)
	}
	jctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.RunJanitor(jctx, 5*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()
	// The janitor runs every 5 ms; the 10 s wait is slack for a loaded CI machine.
	for deadline := time.Now().Add(10 * time.Second); s.Len() != 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("janitor left %d expired flows", s.Len())
		}
	}
}

// TestFlowsSweepKeepsRunningClaim: a flow claimed just before its expiry
// survives sweeps (and a user-code takeover) until its lease ends, so the
// claimant can still finish it; then it is swept like any other.
func TestFlowsSweepKeepsRunningClaim(t *testing.T) {
	s, ctx, now := memstore.NewFlows(), t.Context(), time.Now()
	f := porttest.NewFlow(t, now)
	if err := s.Create(ctx, f); err != nil {
		t.Fatal(err)
	}
	subj := domain.Subject{Type: domain.SubjectExternalSSO, Email: "a@example.com", Issuer: "https://idp.example.com"}
	if _, err := s.Decide(ctx, f.UserCode, domain.Decision{Approve: true, Subject: &subj}, now); err != nil {
		t.Fatal(err)
	}
	claimAt := f.ExpiresAt.Add(-time.Millisecond)
	if _, err := s.Poll(ctx, f.DeviceCodeHash, domain.PollRequest{ClientID: porttest.FlowClient, ClaimID: "c1"}, claimAt); err != nil {
		t.Fatal(err)
	}
	if n := s.Sweep(f.ExpiresAt.Add(time.Second)); n != 0 || s.Len() != 1 {
		t.Fatalf("Sweep during the lease removed %d, Len %d; want 0, 1", n, s.Len())
	}
	if n := s.Sweep(claimAt.Add(domain.ClaimLease)); n != 1 || s.Len() != 0 {
		t.Fatalf("Sweep after the lease removed %d, Len %d; want 1, 0", n, s.Len())
	}

	g := porttest.NewFlow(t, now.Add(-domain.FlowLifetime+time.Second)) // expires one real second from now
	if err := s.Create(ctx, g); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Decide(ctx, g.UserCode, domain.Decision{Approve: true, Subject: &subj}, g.CreatedAt); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Poll(ctx, g.DeviceCodeHash, domain.PollRequest{ClientID: porttest.FlowClient, ClaimID: "c2"}, g.ExpiresAt.Add(-time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(g.ExpiresAt.Add(10 * time.Millisecond)))
	reuse := porttest.NewFlow(t, time.Now())
	reuse.UserCode = g.UserCode
	if err := s.Create(ctx, reuse); err != nil {
		t.Fatalf("Create over an expired claimed flow's user code: %v", err)
	}
	if err := s.FinishClaim(ctx, g.DeviceCodeHash, "c2"); err != nil {
		t.Fatalf("FinishClaim after the user code was taken over: %v", err)
	}
	if got, err := s.ByUserCode(ctx, reuse.UserCode, time.Now()); err != nil || got.DeviceCodeHash != reuse.DeviceCodeHash {
		t.Fatalf("the user code resolves to %q (%v), want the new flow", got.DeviceCodeHash, err)
	}
}

// TestRateLimiterEvictsEmptyKeys: logs with nothing in their window go away.
func TestRateLimiterEvictsEmptyKeys(t *testing.T) {
	l, ctx, now := memstore.NewRateLimiter(), t.Context(), time.Now()
	b := domain.RateBucket{Name: "b", Limit: 3, Window: time.Minute}
	for i := 0; i < 100; i++ {
		if _, err := l.Allow(ctx, b, fmt.Sprint("ip-", i), now); err != nil {
			t.Fatal(err)
		}
	}
	if l.Len() != 100 {
		t.Fatalf("Len = %d, want 100", l.Len())
	}
	l.Sweep(now.Add(time.Minute - time.Millisecond))
	if l.Len() != 100 {
		t.Fatalf("Len = %d after an early sweep, want 100", l.Len())
	}
	l.Sweep(now.Add(time.Minute))
	if l.Len() != 0 {
		t.Fatalf("Len = %d after the window, want 0", l.Len())
	}
	for i := 0; i < 1000; i++ { // one fresh key per minute: the amortised sweep evicts the old ones
		if _, err := l.Allow(ctx, b, fmt.Sprint("k-", i), now.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if l.Len() > 256 {
		t.Fatalf("Len = %d, want <= 256", l.Len())
	}
}

// TestTokenCacheBounded: the cache never holds more than its size, and the
// entry just put is always served.
func TestTokenCacheBounded(t *testing.T) {
	c, ctx := memstore.NewTokenCacheSize(8), t.Context()
	for i := 0; i < 100; i++ {
		h := fmt.Sprint("hash-", i)
		if err := c.Put(ctx, h, ports.CacheEntry{Negative: ports.CacheInvalid}, time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := c.Get(ctx, h); !ok {
			t.Fatalf("entry %d missed right after Put", i)
		}
		if c.Len() > 8 {
			t.Fatalf("Len = %d, want <= 8", c.Len())
		}
	}
}

// TestNonceStoreLapses: a lapsed reservation can be taken again and is swept.
func TestNonceStoreLapses(t *testing.T) {
	s, ctx := memstore.NewNonceStore(), t.Context()
	if ok, _ := s.Reserve(ctx, "n", "a", time.Nanosecond); !ok {
		t.Fatal("first Reserve refused")
	}
	time.Sleep(time.Millisecond)
	if ok, _ := s.Reserve(ctx, "n", "b", time.Minute); !ok {
		t.Fatal("Reserve after the ttl refused")
	}
	for i := 0; i < 1000; i++ {
		if ok, _ := s.Reserve(ctx, fmt.Sprint("lapsing-", i), "a", time.Nanosecond); !ok {
			t.Fatal("Reserve of a fresh nonce refused")
		}
	}
	if s.Len() > 256 {
		t.Fatalf("Len = %d, want <= 256 (amortised sweep)", s.Len())
	}
}

// TestRateLimiterExpiryFollowsTheLog: logs leave in time order, neither
// early nor never: a log whose window grew after its expiry was queued is
// kept while it counts and evicted when it empties; a log taken back to
// empty by Undo and made again is evicted on its own schedule, not its
// predecessor's.
func TestRateLimiterExpiryFollowsTheLog(t *testing.T) {
	l, ctx, t0 := memstore.NewRateLimiter(), t.Context(), time.Now()
	short := domain.RateBucket{Name: "grown", Limit: 1, Window: time.Minute}
	long := short
	long.Window = time.Hour
	if d, _ := l.Allow(ctx, short, "k", t0); !d.Allowed {
		t.Fatal("first request refused")
	}
	if d, _ := l.Allow(ctx, long, "k", t0.Add(time.Second)); d.Allowed { // the window is an hour now
		t.Fatal("second request allowed")
	}
	l.Sweep(t0.Add(time.Minute))
	if d, _ := l.Allow(ctx, long, "k", t0.Add(2*time.Minute)); d.Allowed || l.Len() != 1 {
		t.Fatalf("the log was dropped while it still counts (Len %d, allowed %v)", l.Len(), d.Allowed)
	}
	l.Sweep(t0.Add(time.Hour))
	if l.Len() != 0 {
		t.Fatalf("Len = %d after the grown window passed, want 0", l.Len())
	}

	b := domain.RateBucket{Name: "undo", Limit: 2, Window: time.Minute}
	if _, err := l.Allow(ctx, b, "k", t0); err != nil {
		t.Fatal(err)
	}
	if err := l.Undo(ctx, b, "k", t0); err != nil || l.Len() != 0 {
		t.Fatalf("Undo to empty: Len %d, err %v", l.Len(), err)
	}
	if _, err := l.Allow(ctx, b, "k", t0.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	l.Sweep(t0.Add(time.Minute)) // the first log's expiry: not the new one's
	if l.Len() != 1 {
		t.Fatalf("Len = %d, want 1: a stale expiry evicted a live log", l.Len())
	}
	l.Sweep(t0.Add(90 * time.Second))
	if l.Len() != 0 {
		t.Fatalf("Len = %d after the new log's window, want 0", l.Len())
	}
}

// TestFlowsExpiryWorkIndependentOfLiveFlows: issuance must stay flat as
// pending flows pile up, so the expiry work a Create does may not grow with
// the number of live flows (it once scanned every flow each 256 writes).
// Counted in flows examined, not time.
func TestFlowsExpiryWorkIndependentOfLiveFlows(t *testing.T) {
	const live, creates = 20_000, 1_000
	s, ctx, now := memstore.NewFlows(), t.Context(), time.Now()
	for i := 0; i < live; i++ {
		if err := s.Create(ctx, porttest.NewFlow(t, now)); err != nil {
			t.Fatal(err)
		}
	}
	before := memstore.ExpiryVisits(s)
	for i := 0; i < creates; i++ {
		if err := s.Create(ctx, porttest.NewFlow(t, now)); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing expired: expiry work should look at next to nothing, and
	// never at every live flow.
	if v := memstore.ExpiryVisits(s) - before; v > creates {
		t.Fatalf("%d creates next to %d live flows examined %d flows for expiry; want at most %d", creates, live, v, creates)
	}
}
