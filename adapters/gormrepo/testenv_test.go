package gormrepo_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/ports/porttest"
)

// postgresDSN returns DEVICEGATE_TEST_POSTGRES. Unset, the test is skipped,
// except under CI=true, where a missing database is a failure.
func postgresDSN(t testing.TB) string {
	t.Helper()
	return porttest.RequireEnv(t, porttest.PostgresEnv)
}

// openSQLite opens a fresh SQLite file in a temporary directory (a
// subdirectory, so Open must create it), migrated unless bare.
func openSQLite(t testing.TB, bare bool) (*gormrepo.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "devicegate.db")
	db, err := gormrepo.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatalf("Open SQLite: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if !bare {
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatalf("Migrate SQLite: %v", err)
		}
	}
	return db, path
}

// openPostgres opens the test database inside a fresh schema (search_path
// set in the DSN), migrated unless bare; the schema is dropped on cleanup.
func openPostgres(t testing.TB, bare bool) *gormrepo.DB {
	t.Helper()
	return openPostgresURL(t, postgresSchemaURL(t, nil), bare)
}

// postgresSchemaURL creates a fresh schema in the test database and returns
// a DSN whose search_path selects it, with extra query parameters (runtime
// parameters for the server, e.g. default_transaction_isolation). The schema
// is dropped on cleanup.
func postgresSchemaURL(t testing.TB, extra url.Values) string {
	t.Helper()
	ctx := context.Background()
	base := postgresDSN(t)
	admin, err := gormrepo.Open(ctx, base)
	if err != nil {
		t.Fatalf("Open Postgres: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "dgtest_" + hex.EncodeToString(b)
	if err := gormrepo.ExecForTest(ctx, admin, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if err := gormrepo.ExecForTest(context.Background(), admin, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("DEVICEGATE_TEST_POSTGRES is not a URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	for k, v := range extra {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// openPostgresURL opens dsn, migrated unless bare, closed on cleanup.
func openPostgresURL(t testing.TB, dsn string, bare bool) *gormrepo.DB {
	t.Helper()
	ctx := context.Background()
	db, err := gormrepo.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("Open Postgres schema: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if !bare {
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("Migrate Postgres: %v", err)
		}
	}
	return db
}
