package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for schema set-up

	"github.com/devicegate/devicegate/ports/porttest"
)

// randomName is prefix plus 12 random hex digits: one test's schema or key prefix.
func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// postgresSchema creates a fresh schema and returns a DATABASE_URL confined to it.
func postgresSchema(t testing.TB) string {
	t.Helper()
	dsn := porttest.RequireEnv(t, porttest.PostgresEnv)
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
	return "redis://" + porttest.RequireEnv(t, porttest.RedisEnv) + "/0", randomName("dgtest:") + ":"
}
