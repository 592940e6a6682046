package failover_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/failover"
	"github.com/devicegate/devicegate/adapters/memstore"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
	"github.com/devicegate/devicegate/ports/porttest"
)

// switchable is a shared limiter that can be taken down: then every call
// fails as the Redis adapter does in an outage (or with fault, if set).
type switchable struct {
	ports.RateLimiter
	mu    sync.Mutex
	fault error
	calls atomic.Int64
}

func (s *switchable) set(err error) { s.mu.Lock(); s.fault = err; s.mu.Unlock() }

func (s *switchable) err() error { s.mu.Lock(); defer s.mu.Unlock(); return s.fault }

func (s *switchable) Allow(ctx context.Context, b domain.RateBucket, key string, now time.Time) (domain.RateDecision, error) {
	s.calls.Add(1)
	if err := s.err(); err != nil {
		return domain.RateDecision{}, err
	}
	return s.RateLimiter.Allow(ctx, b, key, now)
}

func (s *switchable) Undo(ctx context.Context, b domain.RateBucket, key string, now time.Time) error {
	s.calls.Add(1)
	if err := s.err(); err != nil {
		return err
	}
	return s.RateLimiter.Undo(ctx, b, key, now)
}

var outage = domain.Unavailable("redis", errors.New("dial tcp 127.0.0.1:6379: connect: connection refused"))

// TestRateLimiter: while the shared limiter is up the policy is invisible.
func TestRateLimiter(t *testing.T) {
	porttest.TestRateLimiter(t, func(*testing.T) ports.RateLimiter {
		return failover.New(memstore.NewRateLimiter(), memstore.NewRateLimiter(), nil)
	})
}

// TestOutagePolicy: in an outage a fail-open bucket (bearer, /me) is
// decided by the local limiter, whose limit still holds; a fail-closed
// bucket (sign-in, user-code entry) answers the outage, and never falls
// back. Fail-open buckets stay local for the cooldown without asking the
// shared limiter, then return to it; a warning is logged once per spell.
func TestOutagePolicy(t *testing.T) {
	shared := &switchable{RateLimiter: memstore.NewRateLimiter()}
	var logs bytes.Buffer
	l := failover.New(shared, memstore.NewRateLimiter(), slog.New(slog.NewTextHandler(&logs, nil)))
	l.Cooldown = 200 * time.Millisecond
	ctx, now := t.Context(), time.Now()
	open := domain.RateBucket{Name: "bearer", Limit: 2, Window: time.Minute, FailOpen: true}
	closed := domain.RateBucket{Name: "login_ip", Limit: 2, Window: time.Minute}

	if d, err := l.Allow(ctx, open, "tok", now); err != nil || !d.Allowed {
		t.Fatalf("shared up: %+v %v", d, err)
	}
	shared.set(outage)
	for i := 0; i < 2; i++ {
		if d, err := l.Allow(ctx, open, "tok", now); err != nil || !d.Allowed {
			t.Fatalf("fail-open bucket in an outage, request %d: %+v %v", i+1, d, err)
		}
	}
	if d, err := l.Allow(ctx, open, "tok", now); err != nil || d.Allowed || d.RetryAfter < time.Second {
		t.Fatalf("the local limit must hold in an outage: %+v %v", d, err)
	}
	for _, b := range []domain.RateBucket{closed, domain.BucketLookup, domain.BucketUserCodeGuess, domain.BucketUserCodeGuessAccount,
		domain.BucketDeviceCode, domain.BucketDecision,
		domain.BucketLoginEmail, domain.BucketLoginEmailIP} {
		if _, err := l.Allow(ctx, b, "k", now); !errors.Is(err, domain.ErrUnavailable) {
			t.Fatalf("fail-closed bucket %s in an outage: %v, want unavailable", b.Name, err)
		}
		if err := l.Undo(ctx, b, "k", now); !errors.Is(err, domain.ErrUnavailable) {
			t.Fatalf("Undo on fail-closed bucket %s in an outage: %v, want unavailable", b.Name, err)
		}
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Fatalf("%d warnings for one outage spell, want 1:\n%s", n, logs.String())
	}

	before := shared.calls.Load()
	if err := l.Undo(ctx, open, "tok", now); err != nil { // local, during the cooldown
		t.Fatal(err)
	}
	if d, err := l.Allow(ctx, open, "tok", now); err != nil || !d.Allowed {
		t.Fatalf("after a local Undo: %+v %v", d, err)
	}
	if n := shared.calls.Load() - before; n != 0 {
		t.Fatalf("fail-open bucket asked the shared limiter %d times during the cooldown", n)
	}
	if _, err := l.Allow(ctx, closed, "k", now); !errors.Is(err, domain.ErrUnavailable) || shared.calls.Load() == before {
		t.Fatalf("a fail-closed bucket must keep asking the shared limiter: %v", err)
	}

	shared.set(nil)
	time.Sleep(l.Cooldown)
	if d, err := l.Allow(ctx, open, "tok", now); err != nil || !d.Allowed { // shared holds one request
		t.Fatalf("after recovery: %+v %v", d, err)
	}
	if d, err := l.Allow(ctx, open, "tok", now); err != nil || d.Allowed {
		t.Fatalf("after recovery the shared count rules again: %+v %v", d, err)
	}
	if d, err := l.Allow(ctx, closed, "k", now); err != nil || !d.Allowed {
		t.Fatalf("fail-closed bucket after recovery: %+v %v", d, err)
	}

	shared.set(errors.New("redis: ERR unknown command")) // a bug, not an outage: never hidden
	if _, err := l.Allow(ctx, open, "other", now); err == nil || errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("a non-outage error on a fail-open bucket: %v, want it returned", err)
	}
}
