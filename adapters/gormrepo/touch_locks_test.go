package gormrepo_test

import (
	"context"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/ports"
)

// touchAll is a last-used batch stamping every use at at.
func touchAll(uses []ports.TokenUse, at time.Time) map[ports.TokenUse]time.Time {
	seen := make(map[ports.TokenUse]time.Time, len(uses))
	for _, u := range uses {
		seen[u] = at
	}
	return seen
}

// TestPostgresRevokeNeverWaitsForAWholeFlush: a last-used flush must not
// hold the row locks of its whole batch until it ends. Another transaction
// holds the lock of the batch's last row (in the flush's id order), so the
// flush stalls at its very end; while it is stalled, a revoke of the batch's
// first row must complete. If the flush were one transaction it would still
// hold that row's lock and the revoke would wait until it gave up at the
// request-path timeout (domain.ErrUnavailable). Nothing is timed: the flush
// is provably still in progress (its last row is locked) when the revoke
// returns.
func TestPostgresRevokeNeverWaitsForAWholeFlush(t *testing.T) {
	db := openPostgres(t, false)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	uses, err := gormrepo.SeedTokensForTest(ctx, db, 1000, now)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	first, last := uses[0], uses[len(uses)-1]
	at := now.Add(time.Minute)
	flushed := make(chan error, 1)
	err = gormrepo.HoldRowLockForTest(ctx, db, last.ID, func(pid int) {
		go func() { flushed <- db.TouchLastUsed(ctx, touchAll(uses, at)) }()
		waitBlockedBy(t, db, pid) // the flush has reached the last row
		cleared, err := db.Revoke(ctx, first.ID, first.Hash, now.Add(2*time.Minute))
		if err != nil || cleared != first.Hash {
			t.Errorf("revoke of the batch's first row while the flush waits at its last = %q, %v; want it done at once", cleared, err)
		}
		if n, err := gormrepo.BlockedByForTest(ctx, db, pid); err != nil || n == 0 {
			t.Errorf("the flush was no longer waiting when the revoke returned (%d, %v)", n, err)
		}
	})
	if err != nil {
		t.Fatalf("lock holder: %v", err)
	}
	if err := <-flushed; err != nil {
		t.Fatalf("TouchLastUsed: %v", err)
	}
	for _, u := range []ports.TokenUse{uses[1], uses[len(uses)/2], last} {
		row, err := db.ByID(ctx, u.ID)
		if err != nil || !row.LastUsedAt.Equal(at) {
			t.Fatalf("row %s after the flush: last_used_at %v, %v; want %v", u.ID, row.LastUsedAt, err, at)
		}
	}
}

// BenchmarkPostgresFlushAndRevoke times a 10,000-row last-used flush and a
// revoke of one of its rows issued 50 ms into the flush (flush-ms and
// revoke-ms per flush; revoke-failures counts revokes that gave up at the
// request-path timeout, as a 503 would). Run it with a small -benchtime,
// e.g. -benchtime=3x.
func BenchmarkPostgresFlushAndRevoke(b *testing.B) {
	db := openPostgres(b, false)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	uses, err := gormrepo.SeedTokensForTest(ctx, db, 10000, now)
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
	var flushTotal, revokeTotal time.Duration
	i, failures := 0, 0
	for b.Loop() {
		seen := touchAll(uses, now.Add(time.Duration(i+1)*time.Minute))
		victim := uses[i%len(uses)]
		i++
		flushed := make(chan time.Duration, 1)
		go func() {
			start := time.Now()
			if err := db.TouchLastUsed(ctx, seen); err != nil {
				b.Error(err)
			}
			flushed <- time.Since(start)
		}()
		time.Sleep(50 * time.Millisecond)
		start := time.Now()
		if _, err := db.Revoke(ctx, victim.ID, victim.Hash, now); err != nil {
			b.Logf("revoke during the flush: %v", err)
			failures++
		}
		revokeTotal += time.Since(start)
		flushTotal += <-flushed
	}
	b.ReportMetric(float64(flushTotal.Milliseconds())/float64(i), "flush-ms")
	b.ReportMetric(float64(revokeTotal.Milliseconds())/float64(i), "revoke-ms")
	b.ReportMetric(float64(failures), "revoke-failures")
}
