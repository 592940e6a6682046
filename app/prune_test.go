package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/memstore"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/ports"
)

type countingPruner struct{ calls int }

func (c *countingPruner) Prune(context.Context, time.Time, int) (int64, error) {
	c.calls++
	return 3, nil
}

// TestPruneRunsUnderTheLock shows that a second instance skips the run while
// the first holds the retention lock, and runs once it is released.
func TestPruneRunsUnderTheLock(t *testing.T) {
	locker := memstore.NewLocker()
	p := &countingPruner{}
	job := &app.Prune{Tokens: p, Locker: locker, RetentionDays: 30}
	unlock, ok, err := locker.TryLock(context.Background(), app.PruneLockName, time.Minute)
	if err != nil || !ok {
		t.Fatal("take the lock as another instance")
	}
	if _, ran, err := job.Execute(context.Background()); ran || err != nil || p.calls != 0 {
		t.Fatalf("ran=%v err=%v calls=%d while another instance holds the lock", ran, err, p.calls)
	}
	if err := unlock(context.Background()); err != nil {
		t.Fatal(err)
	}
	n, ran, err := job.Execute(context.Background())
	if !ran || err != nil || n != 3 || p.calls != 1 {
		t.Fatalf("ran=%v n=%d err=%v", ran, n, err)
	}
	// The job releases its own lock: the next run goes ahead too.
	if _, ran, _ := job.Execute(context.Background()); !ran {
		t.Fatal("lock not released after a run")
	}
}

// prunedObserver records what the use cases report to metrics.
type prunedObserver struct {
	ports.NopObserver
	rows int64
}

func (o *prunedObserver) Pruned(n int64) { o.rows += n }

// TestPruneReportsDeletedRows proves the deleted row count reaches the
// metrics observer (devicegate_pruned_rows_total).
func TestPruneReportsDeletedRows(t *testing.T) {
	obs := &prunedObserver{}
	job := &app.Prune{Env: app.Env{Observe: obs}, Tokens: &countingPruner{}, RetentionDays: 30}
	if _, _, err := job.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if obs.rows != 3 {
		t.Fatalf("observer saw %d pruned rows, want 3", obs.rows)
	}
}
