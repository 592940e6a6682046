package failover

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// DefaultCooldown is how long fail-open buckets stay on the local limiter
// after the shared one was found unavailable, before trying it again.
const DefaultCooldown = 5 * time.Second

// RateLimiter decides on Shared (Redis, common to every instance) and
// applies each bucket's outage policy (domain.RateBucket.FailOpen) when
// Shared answers domain.ErrUnavailable: a fail-open bucket is decided by
// Local, this instance's own limiter, so its limit still holds per
// instance; any other bucket returns the error, a 503. Once an outage is
// seen, fail-open buckets skip Shared for Cooldown, so a Redis that hangs
// does not add its timeout to every bearer request; fail-closed buckets
// always ask Shared, so they recover the moment it does.
type RateLimiter struct {
	Shared, Local ports.RateLimiter
	Cooldown      time.Duration
	Logger        *slog.Logger

	downUntil atomic.Int64 // Unix ns; fail-open buckets use Local until then
}

// New returns the policy over shared with local as the fail-open fallback.
func New(shared, local ports.RateLimiter, log *slog.Logger) *RateLimiter {
	return &RateLimiter{Shared: shared, Local: local, Cooldown: DefaultCooldown, Logger: log}
}

// Allow decides on Shared, or on Local for a fail-open bucket while Shared
// is unavailable.
func (r *RateLimiter) Allow(ctx context.Context, b domain.RateBucket, key string, now time.Time) (domain.RateDecision, error) {
	if b.FailOpen && r.down() {
		return r.Local.Allow(ctx, b, key, now)
	}
	d, err := r.Shared.Allow(ctx, b, key, now)
	if r.failOpen(ctx, b, err) {
		return r.Local.Allow(ctx, b, key, now)
	}
	return d, err
}

// Undo takes back on the limiter that counted the request (as best it can
// tell: a request counted on Shared just before an outage stays counted).
func (r *RateLimiter) Undo(ctx context.Context, b domain.RateBucket, key string, now time.Time) error {
	if b.FailOpen && r.down() {
		return r.Local.Undo(ctx, b, key, now)
	}
	err := r.Shared.Undo(ctx, b, key, now)
	if r.failOpen(ctx, b, err) {
		return r.Local.Undo(ctx, b, key, now)
	}
	return err
}

// down reports whether fail-open buckets are on Local.
func (r *RateLimiter) down() bool {
	return time.Now().UnixNano() < r.downUntil.Load()
}

// failOpen reports whether err is an outage that b answers locally, and
// then starts the cooldown (logging once per outage spell, not per request).
func (r *RateLimiter) failOpen(ctx context.Context, b domain.RateBucket, err error) bool {
	if !b.FailOpen || !errors.Is(err, domain.ErrUnavailable) {
		return false
	}
	now := time.Now()
	if prev := r.downUntil.Swap(now.Add(r.cooldown()).UnixNano()); prev < now.UnixNano() {
		r.log().WarnContext(ctx, "shared rate limiter unavailable: fail-open buckets are counted in this instance for now",
			"bucket", b.Name, "retry_in", r.cooldown(), "err", err)
	}
	return true
}

func (r *RateLimiter) cooldown() time.Duration {
	if r.Cooldown <= 0 {
		return DefaultCooldown
	}
	return r.Cooldown
}

func (r *RateLimiter) log() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}
