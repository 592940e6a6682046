package gormrepo_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/gormrepo"
)

// TestPostgresPoolKeepsItsConnectionsUnderABurst: a burst of more concurrent
// calls than the pool holds must reuse the pool's connections, not close a
// connection after each call and open a new one. With fewer idle slots than
// open connections, every call finishing above the idle limit closed its
// connection and the next one forked a new Postgres backend: at concurrency
// 32 that churn took p99 of revoke and of the approved poll to 200-300 ms and
// ran calls into the 2 s operation bound (503s) on an otherwise idle machine.
func TestPostgresPoolKeepsItsConnectionsUnderABurst(t *testing.T) {
	db := openPostgres(t, false)
	ctx := context.Background()
	uses, err := gormrepo.SeedTokensForTest(ctx, db, 64, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 40, 25
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range rounds {
				u := uses[(w*rounds+i)%len(uses)]
				if _, err := db.ByHash(ctx, u.Hash); err != nil {
					t.Errorf("ByHash: %v", err)
					return
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	s := gormrepo.PoolStatsForTest(db)
	if s.MaxIdleClosed != 0 {
		t.Fatalf("the pool closed %d connections for want of idle slots during the burst (open %d, max open %d); they were opened again",
			s.MaxIdleClosed, s.OpenConnections, s.MaxOpenConnections)
	}
	if s.WaitCount == 0 {
		t.Logf("no call waited for a connection (%d open): the burst did not fill the pool", s.OpenConnections)
	}
}

// TestPostgresRevokeIsAKeyLookupWithoutStatistics: on a table just filled and
// never analysed (a new deployment's first minute, a restored backup),
// Revoke must find its row through the primary key on both sides of its
// UPDATE. With "revoked_at IS NULL" in the scans, the planner took a partial
// index on live rows and filtered all of them by id; 32 concurrent revokes
// then queued on buffer locks into the 2 s bound (503s in cmd/loadgen).
func TestPostgresRevokeIsAKeyLookupWithoutStatistics(t *testing.T) {
	db := openPostgres(t, false)
	ctx := context.Background()
	uses, err := gormrepo.SeedTokensForTest(ctx, db, 1500, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	plan, err := gormrepo.ExplainRevokeForTest(ctx, db, uses[len(uses)/2].ID)
	if err != nil {
		t.Fatal(err)
	}
	scans := strings.Count(plan, "Scan using ") + strings.Count(plan, "Seq Scan")
	if byKey := strings.Count(plan, "Scan using oauth_access_tokens_pkey"); scans != 2 || byKey != 2 {
		t.Fatalf("Revoke reads the table other than by its primary key (%d of %d scans) on a table without statistics:\n%s", byKey, scans, plan)
	}
}
