package gormrepo_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/domain"
)

// TestSQLiteCheckpointsOffTheWritePath: the SQLite writer never runs a WAL
// checkpoint inline (with the default wal_autocheckpoint of 1000 pages, the
// commit crossing it synced the WAL and the file itself: the p99 of mints
// and revokes at concurrency 1 was that commit), and the background
// checkpointer copies what the writes left in the WAL into the file.
func TestSQLiteCheckpointsOffTheWritePath(t *testing.T) {
	db, _ := openSQLite(t, false)
	ctx := context.Background()
	if got, err := gormrepo.ScalarForTest(ctx, db, "PRAGMA wal_autocheckpoint"); err != nil || got != "0" {
		t.Fatalf("the writer's wal_autocheckpoint = %q, %v; want 0 (no checkpoint inside a commit)", got, err)
	}
	now := time.Now().UTC()
	account, _ := domain.NewUUID(rand.Reader)
	for i := range 300 { // each mint writes the row and its indexes: well past 1,000 pages
		id, _ := domain.NewUUID(rand.Reader)
		if _, err := db.Mint(ctx, domain.AccessToken{ID: id, SubjectEmail: "ckpt@example.com", SubjectIssuer: domain.AccountIssuer,
			AccountID: account, ClientID: "difyctl", DeviceLabel: fmt.Sprint("device ", i), Prefix: "dfoa_",
			TokenHash: domain.HashSecret(id), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	// Liveness, not speed: the checkpointer ticks every 200 ms.
	deadline := time.Now().Add(30 * time.Second)
	for gormrepo.CheckpointsForTest(db) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no background checkpoint copied the WAL into the database file")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
