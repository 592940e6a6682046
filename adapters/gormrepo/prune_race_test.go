package gormrepo_test

import (
	"context"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/domain"
)

// waitBlockedBy waits until some backend waits for a lock that backend pid
// holds. The bound is the maintenance timeout: a prune batch or a flush that
// is still not waiting by then has given up anyway.
func waitBlockedBy(t *testing.T, db *gormrepo.DB, pid int) {
	t.Helper()
	deadline := time.Now().Add(gormrepo.MaintenanceTimeoutForTest)
	for {
		n, err := gormrepo.BlockedByForTest(context.Background(), db, pid)
		if err != nil {
			t.Fatalf("read pg_stat_activity: %v", err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing waited for the locks of backend %d within %v", pid, gormrepo.MaintenanceTimeoutForTest)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPostgresPruneSparesARowRevivedByALogin: a row that was never revoked
// and expired long ago is prunable, but it is also its device's live row, so
// a new login for that device rotates it in place (new hash, new expiry):
// the mint revives it. The interleaving: the login's transaction has rotated
// the row and not yet committed; the pruner's statement, whose snapshot
// still sees the expired row, picks its id and waits for the row lock; the
// login commits. At READ COMMITTED the DELETE then re-checks its own WHERE
// against the revived row, so that WHERE must restate the prune predicate:
// an "id IN (subquery)" alone still matches, and the pruner deletes the
// token the CLI has just received.
func TestPostgresPruneSparesARowRevivedByALogin(t *testing.T) {
	db := openPostgres(t, false)
	ctx := context.Background()
	era := time.Date(1981, 3, 1, 0, 0, 0, 0, time.UTC)
	stale := outageToken(era) // expires one hour after era; never revoked
	if _, err := db.Mint(ctx, stale); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	login := stale
	login.ID, login.TokenHash = newUUID(), domain.HashSecret(newUUID())
	login.CreatedAt, login.ExpiresAt = now, now.Add(14*24*time.Hour)
	cutoff := era.Add(60 * 24 * time.Hour)

	type pruneResult struct {
		n   int64
		err error
	}
	pruned := make(chan pruneResult, 1)
	err := gormrepo.MintHoldingForTest(ctx, db, login, func(pid int) {
		go func() {
			n, err := db.Prune(ctx, cutoff, 500)
			pruned <- pruneResult{n, err}
		}()
		waitBlockedBy(t, db, pid)
	})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	res := <-pruned
	if res.err != nil {
		t.Fatalf("Prune: %v", res.err)
	}
	row, err := db.ByHash(ctx, login.TokenHash)
	if err != nil {
		t.Fatalf("the login's token after a concurrent prune: %v (Prune deleted %d rows)", err, res.n)
	}
	if row.ID != stale.ID || !row.RevokedAt.IsZero() || !row.ExpiresAt.Equal(login.ExpiresAt) {
		t.Fatalf("revived row = %+v, want row %s live until %v", row, stale.ID, login.ExpiresAt)
	}
	if res.n != 0 {
		t.Fatalf("Prune deleted %d rows, want 0", res.n)
	}
}
