package memstore

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/devicegate/devicegate/domain"
)

// rateKey names one log: a bucket name and a key within it.
type rateKey struct{ bucket, key string }

// rateLog is the sliding-window log of one (bucket, key): the times of the
// counted requests, oldest first (at most the bucket's Limit of them).
type rateLog struct {
	times  []time.Time
	window time.Duration
}

// RateLimiter is the in-memory ports.RateLimiter: a sliding-window log per
// (bucket, key). A request at now is allowed while fewer than Limit counted
// requests lie in (now-Window, now]; a refused request is not counted.
// Memory is bounded: a log holds at most Limit times, and logs with nothing
// left in their window are evicted by an amortised sweep.
type RateLimiter struct {
	mu    sync.Mutex
	logs  map[rateKey]*rateLog
	calls int
}

// NewRateLimiter returns an empty rate limiter.
func NewRateLimiter() *RateLimiter {
	return &RateLimiter{logs: map[rateKey]*rateLog{}}
}

// Allow counts one request for key in b at now unless the window is full.
// A refusal carries RetryAfter: the time until one more request fits (until
// the oldest counted request leaves the window, or a later one when the limit
// was lowered), rounded up to whole seconds, at least 1 s.
func (l *RateLimiter) Allow(_ context.Context, b domain.RateBucket, key string, now time.Time) (domain.RateDecision, error) {
	if b.Limit <= 0 {
		return domain.RateDecision{Allowed: true}, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.calls++; l.calls%sweepEvery == 0 {
		l.sweep(now)
	}
	k := rateKey{b.Name, key}
	lg := l.logs[k]
	if lg == nil {
		lg = &rateLog{}
		l.logs[k] = lg
	}
	lg.window = b.Window
	lg.prune(now)
	if len(lg.times) >= b.Limit {
		wait := lg.times[len(lg.times)-b.Limit].Add(b.Window).Sub(now)
		return domain.RateDecision{RetryAfter: ceilSecond(wait)}, nil
	}
	lg.insert(now)
	return domain.RateDecision{Allowed: true}, nil
}

// Len returns how many (bucket, key) logs are held (for tests and metrics).
func (l *RateLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.logs)
}

// Sweep evicts every log with nothing left in its window at now.
func (l *RateLimiter) Sweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
}

// sweep evicts empty logs. Callers hold l.mu.
func (l *RateLimiter) sweep(now time.Time) {
	for k, lg := range l.logs {
		if lg.prune(now); len(lg.times) == 0 {
			delete(l.logs, k)
		}
	}
}

// prune drops the times that have left the window at now (a request at t
// leaves at t+window).
func (lg *rateLog) prune(now time.Time) {
	i := 0
	for i < len(lg.times) && !now.Before(lg.times[i].Add(lg.window)) {
		i++
	}
	if i > 0 {
		lg.times = append(lg.times[:0:0], lg.times[i:]...)
	}
}

// insert adds t keeping the log sorted (concurrent callers may pass
// slightly out-of-order times).
func (lg *rateLog) insert(t time.Time) {
	i := sort.Search(len(lg.times), func(i int) bool { return lg.times[i].After(t) })
	lg.times = append(lg.times, time.Time{})
	copy(lg.times[i+1:], lg.times[i:])
	lg.times[i] = t
}

// ceilSecond rounds d up to whole seconds, at least 1 s.
func ceilSecond(d time.Duration) time.Duration {
	if d <= time.Second {
		return time.Second
	}
	return (d + time.Second - 1).Truncate(time.Second)
}
