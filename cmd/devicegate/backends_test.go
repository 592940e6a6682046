package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for schema set-up
)

// need returns the test service address in env var name, skipping locally
// when unset and failing under CI=true (a missing service never skips in CI).
func need(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set; CI must run this test against a real service", name)
		}
		t.Skipf("set %s to run this test (make test does)", name)
	}
	return v
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// postgresSchema creates a fresh schema and returns a DATABASE_URL confined to it.
func postgresSchema(t testing.TB) string {
	t.Helper()
	dsn := need(t, "DEVICEGATE_TEST_POSTGRES")
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	schema := randomName("dg_cmd_")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// redisURL returns a REDIS_URL for the test Redis and a fresh key prefix.
func redisURL(t testing.TB) (string, string) {
	t.Helper()
	return "redis://" + need(t, "DEVICEGATE_TEST_REDIS") + "/0", randomName("dgtest:") + ":"
}
