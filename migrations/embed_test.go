package migrations_test

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"

	_ "github.com/glebarez/go-sqlite" // registers the "sqlite" database/sql driver

	"github.com/devicegate/devicegate/migrations"
)

// TestDialectsInStep: every migration exists for both dialects, under the
// same version and name, so neither schema can fall behind the other.
func TestDialectsInStep(t *testing.T) {
	names := func(dialect string) []string {
		fsys, err := migrations.FS(dialect)
		if err != nil {
			t.Fatalf("FS(%s): %v", dialect, err)
		}
		got, err := fs.Glob(fsys, "*.sql")
		if err != nil || len(got) == 0 {
			t.Fatalf("no %s migrations (%v)", dialect, err)
		}
		return got
	}
	if lite, pg := names(migrations.SQLite), names(migrations.Postgres); !slices.Equal(lite, pg) {
		t.Fatalf("sqlite migrations %v differ from postgres %v", lite, pg)
	}
	if _, err := migrations.FS("mysql"); err == nil {
		t.Fatal("FS(mysql) succeeded, want an unknown-dialect error")
	}
}

func TestUpAndVersionSQLite(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })

	current, latest, err := migrations.Version(ctx, db, migrations.SQLite)
	if err != nil || current != 0 || latest < 2 {
		t.Fatalf("Version(empty) = %d, %d, %v; want 0, >= 2, nil", current, latest, err)
	}
	for range 2 { // idempotent
		if err := migrations.Up(ctx, db, migrations.SQLite); err != nil {
			t.Fatalf("Up: %v", err)
		}
	}
	current, latest2, err := migrations.Version(ctx, db, migrations.SQLite)
	if err != nil || current != latest || latest2 != latest {
		t.Fatalf("Version(migrated) = %d, %d, %v; want %d, %d, nil", current, latest2, err, latest, latest)
	}
	var n int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'uq_oauth_active_per_device'`).Scan(&n)
	if err != nil || n != 1 {
		t.Fatalf("partial unique index missing: %d, %v", n, err)
	}
	if err := migrations.Up(ctx, db, "oracle"); err == nil {
		t.Fatal("Up(oracle) succeeded, want an unknown-dialect error")
	}
}
