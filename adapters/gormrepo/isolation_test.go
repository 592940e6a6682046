package gormrepo_test

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
	"github.com/devicegate/devicegate/ports/porttest"
)

// TestPostgresStricterDefaultIsolation: a server, database or role may set
// default_transaction_isolation to serializable (here through the DSN's
// startup parameter). The compare-and-set statements, the mint's re-run and
// the workspace join are written for READ COMMITTED, so the adapter must
// pin it: racing mints, hard expiries, revocations, last-used flushes and
// account creations then still succeed exactly as on a default server,
// instead of failing with serialization errors (40001).
func TestPostgresStricterDefaultIsolation(t *testing.T) {
	dsn := postgresSchemaURL(t, url.Values{"default_transaction_isolation": {"serializable"}})
	db := openPostgresURL(t, dsn, false)
	ctx := context.Background()
	if got, err := gormrepo.ScalarForTest(ctx, db, "SHOW default_transaction_isolation"); err != nil || got != "serializable" {
		t.Fatalf("default_transaction_isolation = %q, %v; the test needs serializable", got, err)
	}

	now := time.Now().UTC().Truncate(time.Microsecond)
	const n = 12
	base := outageToken(now)
	var wg sync.WaitGroup
	errs := make([]error, 4*n)
	start := make(chan struct{})
	run := func(i int, fn func() error) {
		wg.Go(func() { <-start; errs[i] = fn() })
	}
	expiring := outageToken(now.Add(-2 * time.Hour))
	revoked := outageToken(now)
	for _, tok := range []domain.AccessToken{expiring, revoked} {
		if _, err := db.Mint(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	wins, hashes := 0, 0
	for i := range n {
		run(i, func() error {
			tok := base
			tok.ID, tok.TokenHash = newUUID(), domain.HashSecret(newUUID())
			_, err := db.Mint(ctx, tok)
			return err
		})
		run(n+i, func() error {
			won, err := db.ExpireHard(ctx, expiring.ID, now)
			mu.Lock()
			defer mu.Unlock()
			if won {
				wins++
			}
			return err
		})
		run(2*n+i, func() error {
			_, err := db.Revoke(ctx, revoked.ID, "", now)
			if errors.Is(err, domain.ErrNotFound) {
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				hashes++
			}
			return err
		})
		run(3*n+i, func() error {
			return db.TouchLastUsed(ctx, map[ports.TokenUse]time.Time{
				{ID: expiring.ID, Hash: expiring.TokenHash}: now, {ID: revoked.ID, Hash: revoked.TokenHash}: now.Add(time.Duration(i)),
			})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("racer %d: %v", i, err)
		}
	}
	if wins != 1 || hashes != 1 {
		t.Errorf("%d hard expiries won and %d revocations cleared a hash, want 1 and 1", wins, hashes)
	}
	porttest.TestAccounts(t, func(t *testing.T) porttest.AccountStore { return db })
}
