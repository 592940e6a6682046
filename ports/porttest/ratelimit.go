package porttest

import (
	"fmt"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// TestRateLimiter checks the exact "Limit per Window" semantics of a sliding
// window log: a request at now is allowed while fewer than Limit counted
// requests lie in (now-Window, now]; a refused request is not counted and
// carries RetryAfter = the time until one more request would fit (while the
// log holds Limit requests, until the oldest leaves the window at its time +
// Window), rounded up to whole seconds, at least 1 s. Buckets (by Name) and keys are independent; Limit <= 0 always
// allows. Bucket names and keys are random, so stores may share a backend.
// Times are passed explicitly and stay near real time.
func TestRateLimiter(t *testing.T, newLimiter func(t *testing.T) ports.RateLimiter) {
	t.Helper()
	cases := []struct {
		name string
		run  func(t *testing.T, l ports.RateLimiter)
	}{
		{"LimitPerWindow", rateLimitPerWindow},
		{"RetryAfter", rateRetryAfter},
		{"LimitLowered", rateLimitLowered},
		{"RefusedNotCounted", rateRefusedNotCounted},
		{"SlidingWindow", rateSliding},
		{"Independent", rateIndependent},
		{"Disabled", rateDisabled},
		{"Race", rateRace},
		{"UndoTakesBack", rateUndoTakesBack},
		{"UndoOnlyWhatWasCounted", rateUndoOnlyCounted},
		{"UndoRace", rateUndoRace},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newLimiter(t)) })
	}
}

// rateTestBucket returns a bucket with a random name.
func rateTestBucket(limit int, window time.Duration) domain.RateBucket {
	return domain.RateBucket{Name: "porttest_" + stRandHex(6), Limit: limit, Window: window}
}

// rateTry calls Allow and fails t unless the answer is allowed (retry 0) or
// refused with exactly retry.
func rateTry(t *testing.T, l ports.RateLimiter, b domain.RateBucket, key string, now time.Time, allowed bool, retry time.Duration) {
	t.Helper()
	d, err := l.Allow(t.Context(), b, key, now)
	stWantErr(t, "Allow", err, nil)
	what := fmt.Sprintf("Allow(limit %d per %v) at %v", b.Limit, b.Window, now.Format("15:04:05.000"))
	if d.Allowed != allowed {
		t.Fatalf("%s: Allowed = %v, want %v", what, d.Allowed, allowed)
	}
	if !allowed && d.RetryAfter != retry {
		t.Fatalf("%s: RetryAfter = %v, want %v", what, d.RetryAfter, retry)
	}
}

// rateUndo calls Undo and fails t on an error.
func rateUndo(t *testing.T, l ports.RateLimiter, b domain.RateBucket, key string, now time.Time) {
	t.Helper()
	stWantErr(t, "Undo", l.Undo(t.Context(), b, key, now), nil)
}

// rateLimitPerWindow: Limit requests at one instant pass, the next is refused.
func rateLimitPerWindow(t *testing.T, l ports.RateLimiter) {
	now := stNow()
	for _, limit := range []int{1, 5} {
		b, key := rateTestBucket(limit, time.Minute), stRandHex(8)
		for i := 0; i < limit; i++ {
			rateTry(t, l, b, key, now, true, 0)
		}
		rateTry(t, l, b, key, now, false, time.Minute)
		rateTry(t, l, b, key, now.Add(time.Minute-time.Millisecond), false, time.Second)
		for i := 0; i < limit; i++ {
			rateTry(t, l, b, key, now.Add(time.Minute), true, 0)
		}
		rateTry(t, l, b, key, now.Add(time.Minute), false, time.Minute)
	}
}

// rateRetryAfter: RetryAfter is the time until the oldest counted request
// leaves, rounded up to whole seconds, never below 1 s.
func rateRetryAfter(t *testing.T, l ports.RateLimiter) {
	t0 := stNow()
	b, key := rateTestBucket(3, time.Minute), stRandHex(8)
	rateTry(t, l, b, key, t0, true, 0)
	rateTry(t, l, b, key, t0.Add(10*time.Second), true, 0)
	rateTry(t, l, b, key, t0.Add(20*time.Second), true, 0)
	rateTry(t, l, b, key, t0.Add(25*time.Second), false, 35*time.Second)
	rateTry(t, l, b, key, t0.Add(25*time.Second+300*time.Millisecond), false, 35*time.Second) // 34.7 s rounds up
	rateTry(t, l, b, key, t0.Add(59*time.Second), false, time.Second)
	rateTry(t, l, b, key, t0.Add(59*time.Second+999*time.Millisecond), false, time.Second) // 1 ms, at least 1 s
	rateTry(t, l, b, key, t0.Add(time.Minute), true, 0)                                    // t0 has left
	rateTry(t, l, b, key, t0.Add(time.Minute), false, 10*time.Second)                      // now t0+10 s is oldest
}

// rateLimitLowered: after a bucket's limit drops (a new configuration, or
// instances that disagree during a rolling deploy) a key may hold more counted
// requests than Limit. RetryAfter is then the time until enough of them have
// left for one more to fit, not until the oldest leaves (which would send the
// client back only to be refused again).
func rateLimitLowered(t *testing.T, l ports.RateLimiter) {
	t0 := stNow()
	b, key := rateTestBucket(4, time.Minute), stRandHex(8)
	for i := range 4 {
		rateTry(t, l, b, key, t0.Add(time.Duration(i)*10*time.Second), true, 0) // 0 10 20 30
	}
	low := b
	low.Limit = 2
	rateTry(t, l, low, key, t0.Add(35*time.Second), false, 45*time.Second) // 20 leaves at 80
	rateTry(t, l, low, key, t0.Add(80*time.Second), true, 0)               // only 30 is left
	rateTry(t, l, low, key, t0.Add(80*time.Second), false, 10*time.Second) // 30 leaves at 90
}

// rateRefusedNotCounted: refused requests do not extend the wait.
func rateRefusedNotCounted(t *testing.T, l ports.RateLimiter) {
	t0 := stNow()
	b, key := rateTestBucket(2, 10*time.Second), stRandHex(8)
	rateTry(t, l, b, key, t0, true, 0)
	rateTry(t, l, b, key, t0.Add(time.Second), true, 0)
	for i := 2; i < 10; i++ {
		rateTry(t, l, b, key, t0.Add(time.Duration(i)*time.Second), false, time.Duration(10-i)*time.Second)
	}
	rateTry(t, l, b, key, t0.Add(10*time.Second), true, 0)
	rateTry(t, l, b, key, t0.Add(11*time.Second), true, 0)
	rateTry(t, l, b, key, t0.Add(11*time.Second), false, 9*time.Second)
}

// rateSliding: the window slides (it is not a fixed window reset at its end).
func rateSliding(t *testing.T, l ports.RateLimiter) {
	t0 := stNow()
	b, key := rateTestBucket(4, 10*time.Second), stRandHex(8)
	for i := 0; i < 4; i++ {
		rateTry(t, l, b, key, t0.Add(time.Duration(3*i)*time.Second), true, 0) // 0 3 6 9
	}
	rateTry(t, l, b, key, t0.Add(9500*time.Millisecond), false, time.Second)
	rateTry(t, l, b, key, t0.Add(10*time.Second), true, 0)              // 0 left
	rateTry(t, l, b, key, t0.Add(11*time.Second), false, 2*time.Second) // 3 leaves at 13
	rateTry(t, l, b, key, t0.Add(13*time.Second), true, 0)              // 3 left
	rateTry(t, l, b, key, t0.Add(13*time.Second), false, 3*time.Second) // 6 leaves at 16
	rateTry(t, l, b, key, t0.Add(60*time.Second), true, 0)              // all left
	rateTry(t, l, b, key, t0.Add(60*time.Second+time.Millisecond), true, 0)
}

// rateIndependent: keys and buckets (by name) do not share counts.
func rateIndependent(t *testing.T, l ports.RateLimiter) {
	now := stNow()
	b, key := rateTestBucket(2, time.Minute), stRandHex(8)
	rateTry(t, l, b, key, now, true, 0)
	rateTry(t, l, b, key, now, true, 0)
	rateTry(t, l, b, key, now, false, time.Minute)
	other := b
	other.Name = "porttest_" + stRandHex(6)
	rateTry(t, l, b, stRandHex(8), now, true, 0)
	rateTry(t, l, other, key, now, true, 0)
	rateTry(t, l, other, key, now, true, 0)
	rateTry(t, l, other, key, now, false, time.Minute)
	rateTry(t, l, b, key, now.Add(time.Second), false, 59*time.Second)
}

// rateDisabled: a bucket with Limit <= 0 always allows.
func rateDisabled(t *testing.T, l ports.RateLimiter) {
	now := stNow()
	for _, limit := range []int{0, -1} {
		b, key := rateTestBucket(limit, time.Minute), stRandHex(8)
		for i := 0; i < 20; i++ {
			rateTry(t, l, b, key, now, true, 0)
		}
	}
}

// rateRace: 100 concurrent requests on one key with Limit 10: exactly 10 pass.
func rateRace(t *testing.T, l ports.RateLimiter) {
	const n, limit = 100, 10
	now := stNow()
	b, key := rateTestBucket(limit, time.Minute), stRandHex(8)
	rateRaceAllow(t, l, n, b, key, now)
	rateTry(t, l, b, key, now.Add(time.Second), false, 59*time.Second)
}

// rateUndoTakesBack: Undo at the now of a counted request frees its place at
// once, and the remaining requests keep their places (the next RetryAfter
// is the older request's).
func rateUndoTakesBack(t *testing.T, l ports.RateLimiter) {
	t0 := stNow()
	b, key := rateTestBucket(2, time.Minute), stRandHex(8)
	rateTry(t, l, b, key, t0, true, 0)
	rateTry(t, l, b, key, t0.Add(10*time.Second), true, 0)
	rateTry(t, l, b, key, t0.Add(11*time.Second), false, 49*time.Second)
	rateUndo(t, l, b, key, t0.Add(10*time.Second))
	rateTry(t, l, b, key, t0.Add(12*time.Second), true, 0)
	rateTry(t, l, b, key, t0.Add(13*time.Second), false, 47*time.Second) // t0 is still counted
	for i := 0; i < 10; i++ {                                            // count and take back, over and over: nothing accumulates
		at := t0.Add(14*time.Second + time.Duration(i)*time.Second)
		rateUndo(t, l, b, key, t0.Add(12*time.Second))
		rateTry(t, l, b, key, at, true, 0)
		rateTry(t, l, b, key, at, false, 46*time.Second-time.Duration(i)*time.Second)
		rateUndo(t, l, b, key, at)
		rateTry(t, l, b, key, at, true, 0)
		rateUndo(t, l, b, key, at)
	}
	rateUndo(t, l, b, key, t0)
	rateTry(t, l, b, key, t0.Add(30*time.Second), true, 0)
	rateTry(t, l, b, key, t0.Add(30*time.Second), true, 0)
	rateTry(t, l, b, key, t0.Add(30*time.Second), false, time.Minute)
}

// rateUndoOnlyCounted: Undo takes back one request per call, only one that
// was counted at exactly that now, never in another key or bucket, and is
// a no-op (not an error) on an unknown key, a request that left the window
// and a disabled bucket.
func rateUndoOnlyCounted(t *testing.T, l ports.RateLimiter) {
	t0 := stNow()
	b, key := rateTestBucket(3, time.Minute), stRandHex(8)
	rateUndo(t, l, b, stRandHex(8), t0)                     // unknown key
	rateUndo(t, l, rateTestBucket(0, time.Minute), key, t0) // disabled bucket
	for i := 0; i < 3; i++ {
		rateTry(t, l, b, key, t0, true, 0)
	}
	rateUndo(t, l, b, key, t0.Add(time.Second)) // nothing counted then
	rateUndo(t, l, b, stRandHex(8), t0)         // another key
	other := b
	other.Name = "porttest_" + stRandHex(6)
	rateUndo(t, l, other, key, t0) // another bucket
	rateTry(t, l, b, key, t0.Add(time.Second), false, 59*time.Second)
	rateUndo(t, l, b, key, t0) // one of the three at t0
	rateTry(t, l, b, key, t0.Add(2*time.Second), true, 0)
	rateTry(t, l, b, key, t0.Add(2*time.Second), false, 58*time.Second)
	rateUndo(t, l, b, key, t0.Add(2*time.Second))
	rateUndo(t, l, b, key, t0.Add(2*time.Second)) // already taken back: the t0 ones stay
	rateTry(t, l, b, key, t0.Add(3*time.Second), true, 0)
	rateTry(t, l, b, key, t0.Add(3*time.Second), false, 57*time.Second)
	rateUndo(t, l, b, key, t0.Add(-time.Minute))        // long gone
	rateTry(t, l, b, key, t0.Add(time.Minute), true, 0) // both t0 requests left
	rateTry(t, l, b, key, t0.Add(time.Minute), true, 0)
	rateTry(t, l, b, key, t0.Add(time.Minute), false, 3*time.Second)
}

// rateUndoRace: the sign-in pattern (count, then take back the ones that
// turn out not to count) racing on one key never lets more than Limit
// through at once, and leaves nothing counted behind.
func rateUndoRace(t *testing.T, l ports.RateLimiter) {
	const n, limit = 60, 5
	now := stNow()
	b, key := rateTestBucket(limit, time.Minute), stRandHex(8)
	rateRaceAllow(t, l, n, b, key, now)
	undoErrs := make([]error, limit)
	stRace(limit, func(i int) { undoErrs[i] = l.Undo(t.Context(), b, key, now) })
	for i, err := range undoErrs {
		stWantErr(t, fmt.Sprintf("Undo %d", i), err, nil)
	}
	for i := 0; i < limit; i++ {
		rateTry(t, l, b, key, now.Add(time.Second), true, 0)
	}
	rateTry(t, l, b, key, now.Add(time.Second), false, time.Minute)
}

// rateRaceAllow races n Allow calls on one key at now and fails t unless
// exactly b.Limit pass and every refusal carries RetryAfter >= 1 s.
func rateRaceAllow(t *testing.T, l ports.RateLimiter, n int, b domain.RateBucket, key string, now time.Time) {
	t.Helper()
	decisions := make([]domain.RateDecision, n)
	errs := make([]error, n)
	stRace(n, func(i int) { decisions[i], errs[i] = l.Allow(t.Context(), b, key, now) })
	allowed := 0
	for i, d := range decisions {
		stWantErr(t, fmt.Sprintf("Allow %d", i), errs[i], nil)
		if d.Allowed {
			allowed++
		} else if d.RetryAfter < time.Second {
			t.Errorf("Allow %d refused with RetryAfter %v, want >= 1s", i, d.RetryAfter)
		}
	}
	if allowed != b.Limit {
		t.Fatalf("%d of %d concurrent requests allowed, want exactly %d", allowed, n, b.Limit)
	}
}
