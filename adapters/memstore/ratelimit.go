package memstore

import (
	"context"
	"hash/maphash"
	"sort"
	"sync"
	"time"

	"github.com/devicegate/devicegate/domain"
)

// Sharding and expiry work per call.
const (
	rateShards = 32
	// ratePopsPerCall bounds the expiry work one Allow does: more than the
	// one entry it may queue, so the queues drain under load, yet a constant,
	// so a call after a quiet spell does not pay for all of it (the janitor's
	// Sweep takes the rest).
	ratePopsPerCall = 8
)

// rateKey names one log: a bucket name and a key within it.
type rateKey struct{ bucket, key string }

// rateLog is the sliding-window log of one (bucket, key): the wall-clock
// times (Unix ns) of the counted requests, oldest first (at most the
// bucket's Limit of them). queued is the latest expiry queued for it.
type rateLog struct {
	key    rateKey
	times  []int64
	window int64
	queued int64
	inline [2]int64 // times' first backing array: most logs hold a request or two
}

// expiry is one queued moment at which lg may have emptied.
type expiry struct {
	lg *rateLog
	at int64
}

// expiryQueue is a FIFO of expiries. Every counted request of one window
// length is queued at its time + window, so the queue is in time order
// (up to the small disorder of concurrent callers' clocks).
type expiryQueue struct {
	window int64
	items  []expiry
	head   int
}

// rateShard is one lock's share of the logs, with the expiry queue of each
// window length in use.
type rateShard struct {
	mu     sync.Mutex
	logs   map[rateKey]*rateLog
	queues []*expiryQueue // one per window length in use: a handful
}

// RateLimiter is the in-memory ports.RateLimiter: a sliding-window log per
// (bucket, key). A request at now is allowed while fewer than Limit counted
// requests lie in (now-Window, now]; a refused request is not counted.
// Memory is bounded and expiry costs O(1) per call whatever the number of
// logs: a log holds at most Limit times, and logs empty in time order
// through per-window FIFO queues, a few per call and the rest by Sweep.
// Logs are spread over shards, each with its own lock.
type RateLimiter struct {
	seed   maphash.Seed
	shards [rateShards]rateShard
}

// NewRateLimiter returns an empty rate limiter.
func NewRateLimiter() *RateLimiter {
	l := &RateLimiter{seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i] = rateShard{logs: map[rateKey]*rateLog{}}
	}
	return l
}

func (l *RateLimiter) shard(k rateKey) *rateShard {
	return &l.shards[maphash.Comparable(l.seed, k)%rateShards]
}

// Allow counts one request for key in b at now unless the window is full.
// A refusal carries RetryAfter: the time until one more request fits (until
// the oldest counted request leaves the window, or a later one when the limit
// was lowered), rounded up to whole seconds, at least 1 s.
func (l *RateLimiter) Allow(_ context.Context, b domain.RateBucket, key string, now time.Time) (domain.RateDecision, error) {
	if b.Limit <= 0 {
		return domain.RateDecision{Allowed: true}, nil
	}
	k, t, window := rateKey{b.Name, key}, now.UnixNano(), int64(max(b.Window, 1))
	s := l.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(t, ratePopsPerCall)
	lg := s.logs[k]
	if lg == nil {
		lg = &rateLog{key: k}
		lg.times = lg.inline[:0]
		s.logs[k] = lg
	}
	lg.window = window
	lg.prune(t)
	if len(lg.times) >= b.Limit {
		wait := lg.times[len(lg.times)-b.Limit] + window - t
		return domain.RateDecision{RetryAfter: ceilSecond(time.Duration(wait))}, nil
	}
	lg.insert(t)
	s.enqueue(lg, t+window)
	return domain.RateDecision{Allowed: true}, nil
}

// Undo takes back one request counted for key in b at exactly now.
func (l *RateLimiter) Undo(_ context.Context, b domain.RateBucket, key string, now time.Time) error {
	if b.Limit <= 0 {
		return nil
	}
	k, t := rateKey{b.Name, key}, now.UnixNano()
	s := l.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	lg := s.logs[k]
	if lg == nil {
		return nil
	}
	if i := sort.Search(len(lg.times), func(i int) bool { return lg.times[i] >= t }); i < len(lg.times) && lg.times[i] == t {
		lg.times = append(lg.times[:i], lg.times[i+1:]...)
	}
	if len(lg.times) == 0 {
		delete(s.logs, k) // its queued expiries find it gone
	}
	return nil
}

// Len returns how many (bucket, key) logs are held (for tests and metrics).
func (l *RateLimiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.logs)
		s.mu.Unlock()
	}
	return n
}

// Sweep evicts every log with nothing left in its window at now. It visits
// only the queued expiries that are due, never every log.
func (l *RateLimiter) Sweep(now time.Time) {
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		s.expire(now.UnixNano(), -1)
		s.mu.Unlock()
	}
}

// enqueue queues lg's check at at in the queue of lg's window. Callers hold s.mu.
func (s *rateShard) enqueue(lg *rateLog, at int64) {
	var q *expiryQueue
	for _, c := range s.queues {
		if c.window == lg.window {
			q = c
		}
	}
	if q == nil {
		q = &expiryQueue{window: lg.window}
		s.queues = append(s.queues, q)
	}
	q.items = append(q.items, expiry{lg, at})
	lg.queued = max(lg.queued, at)
}

// expire pops up to limit due expiries (all when limit < 0) and evicts the
// logs they leave empty. A log that is still in use but has no later
// expiry queued (its window changed) is queued again, so no log is
// forgotten. Callers hold s.mu.
func (s *rateShard) expire(now int64, limit int) {
	for _, q := range s.queues {
		for limit != 0 && q.head < len(q.items) && q.items[q.head].at <= now {
			lg := q.items[q.head].lg
			q.items[q.head] = expiry{}
			q.head++
			limit--
			if s.logs[lg.key] != lg {
				continue // evicted already (and maybe replaced)
			}
			if lg.prune(now); len(lg.times) == 0 {
				delete(s.logs, lg.key)
			} else if lg.queued <= now {
				s.enqueue(lg, lg.times[len(lg.times)-1]+lg.window)
			}
		}
		q.compact()
	}
}

// compact gives the popped prefix back once it is most of the slice.
func (q *expiryQueue) compact() {
	if q.head < 1024 || 2*q.head < len(q.items) {
		return
	}
	n := copy(q.items, q.items[q.head:])
	clear(q.items[n:])
	q.items, q.head = q.items[:n], 0
}

// prune drops the times that have left the window at now (a request at t
// leaves at t+window).
func (lg *rateLog) prune(now int64) {
	i := 0
	for i < len(lg.times) && lg.times[i]+lg.window <= now {
		i++
	}
	if i > 0 {
		n := copy(lg.times, lg.times[i:])
		lg.times = lg.times[:n]
	}
}

// insert adds t keeping the log sorted (concurrent callers may pass
// slightly out-of-order times).
func (lg *rateLog) insert(t int64) {
	i := sort.Search(len(lg.times), func(i int) bool { return lg.times[i] > t })
	lg.times = append(lg.times, 0)
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
