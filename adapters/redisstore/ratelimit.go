package redisstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/redis/rueidis"
)

// RateLimiter is a sliding-window log per bucket and key (ports.RateLimiter):
// one sorted set at <prefix>rl:<bucket>:{<sha256 of key>}, one Lua script and
// one round trip per decision.
type RateLimiter struct {
	c    rueidis.Client
	keys keyspace
}

// NewRateLimiter returns the limiter on c with every key under prefix.
func NewRateLimiter(c rueidis.Client, prefix string) *RateLimiter {
	return &RateLimiter{c: c, keys: keyspace(prefix)}
}

// Allow counts one request at now unless the bucket is full; a refusal
// carries the time until one more request fits (see scripts/ratelimit.lua),
// rounded up to whole seconds (at least 1 s). A bucket with Limit <= 0
// allows without touching Redis.
func (r *RateLimiter) Allow(ctx context.Context, b domain.RateBucket, key string, now time.Time) (domain.RateDecision, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	if b.Limit <= 0 {
		return domain.RateDecision{Allowed: true}, nil
	}
	window := max(b.Window.Milliseconds(), 1)
	args := []string{strconv.FormatInt(now.UnixMilli(), 10), strconv.FormatInt(window, 10),
		strconv.Itoa(b.Limit), rand.Text()}
	res, err := rateLimitScript.Exec(ctx, r.c, []string{r.keys.rate(b.Name, key)}, args).AsIntSlice()
	if err != nil {
		return domain.RateDecision{}, wrapErr(err)
	}
	if len(res) != 2 {
		return domain.RateDecision{}, fmt.Errorf("redisstore: rate-limit reply of %d elements", len(res))
	}
	if res[0] == 1 {
		return domain.RateDecision{Allowed: true}, nil
	}
	return domain.RateDecision{RetryAfter: retryAfter(time.Duration(res[1]) * time.Millisecond)}, nil
}

// Undo takes back one request counted at now (to the millisecond, as Allow
// stores it) in one round trip (see scripts/ratelimit_undo.lua).
func (r *RateLimiter) Undo(ctx context.Context, b domain.RateBucket, key string, now time.Time) error {
	if b.Limit <= 0 {
		return nil
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	err := rateUndoScript.Exec(ctx, r.c, []string{r.keys.rate(b.Name, key)},
		[]string{strconv.FormatInt(now.UnixMilli(), 10)}).Error()
	return wrapErr(err)
}

// retryAfter rounds up to whole seconds, at least one (the Retry-After header
// counts seconds).
func retryAfter(d time.Duration) time.Duration {
	return max(((d+time.Second-1)/time.Second)*time.Second, time.Second)
}
