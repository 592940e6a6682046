package gormrepo_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/domain"
)

// backends runs f once per dialect (Postgres only when configured).
func backends(t *testing.T, f func(t *testing.T, open func(bare bool) *gormrepo.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		f(t, func(bare bool) *gormrepo.DB { db, _ := openSQLite(t, bare); return db })
	})
	t.Run("postgres", func(t *testing.T) {
		postgresDSN(t)
		f(t, func(bare bool) *gormrepo.DB { return openPostgres(t, bare) })
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	backends(t, func(t *testing.T, open func(bool) *gormrepo.DB) {
		ctx := context.Background()
		db := open(false)
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if err := db.CheckSchema(ctx); err != nil {
			t.Fatalf("CheckSchema after Migrate: %v", err)
		}
		if db.Name() != "database" {
			t.Fatalf("Name = %q", db.Name())
		}
		if err := db.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
}

// TestCheckSchemaEmpty: an unmigrated database is refused with the command
// to run, and checking it writes nothing (no goose version table appears).
func TestCheckSchemaEmpty(t *testing.T) {
	backends(t, func(t *testing.T, open func(bool) *gormrepo.DB) {
		ctx := context.Background()
		db := open(true)
		for range 2 {
			err := db.CheckSchema(ctx)
			if err == nil || !strings.Contains(err.Error(), "devicegate migrate") {
				t.Fatalf("CheckSchema on an empty schema = %v, want an error naming `devicegate migrate`", err)
			}
		}
		if err := gormrepo.ExecForTest(ctx, db, "SELECT 1 FROM goose_db_version"); err == nil {
			t.Fatal("CheckSchema created the version table; it must only read")
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		if err := db.CheckSchema(ctx); err != nil {
			t.Fatalf("CheckSchema after Migrate: %v", err)
		}
	})
}

// TestOnlyHashStored mints through the adapter and reads the raw row back:
// the plaintext token appears in no column (and, for SQLite, nowhere in the
// database files), only its SHA-256; times are stored in the documented form.
func TestOnlyHashStored(t *testing.T) {
	const plaintext = "dfoa_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg"
	check := func(t *testing.T, db *gormrepo.DB) []string {
		ctx := context.Background()
		now := time.Date(2031, 1, 2, 3, 4, 5, 6789, time.UTC) // sub-microsecond part is dropped
		tok := domain.AccessToken{
			ID: "6f1c2a9e-3a47-4f55-9d6b-2b8f4f0c1d2e", SubjectEmail: "a@example.com", SubjectIssuer: domain.AccountIssuer,
			AccountID: "0b7e4f7c-95a4-4cb4-a1ba-7d3f3d8a1c11", ClientID: "difyctl", DeviceLabel: "laptop",
			Prefix: "dfoa_", TokenHash: domain.HashSecret(plaintext), CreatedAt: now, ExpiresAt: now.Add(time.Hour),
		}
		res, err := db.Mint(ctx, tok)
		if err != nil {
			t.Fatalf("Mint: %v", err)
		}
		if want := now.Truncate(time.Microsecond); !res.Token.CreatedAt.Equal(want) {
			t.Fatalf("CreatedAt = %v, want %v (truncated to microseconds)", res.Token.CreatedAt, want)
		}
		cols, err := gormrepo.RowTextForTest(ctx, db, tok.ID)
		if err != nil {
			t.Fatalf("read row: %v", err)
		}
		hashFound := false
		for _, c := range cols {
			if strings.Contains(c, plaintext) || strings.Contains(c, strings.TrimPrefix(plaintext, "dfoa_")) {
				t.Fatalf("plaintext token stored in a column: %q", c)
			}
			hashFound = hashFound || c == tok.TokenHash
		}
		if !hashFound {
			t.Fatalf("row %q does not hold the token's SHA-256", cols)
		}
		return cols
	}
	t.Run("sqlite", func(t *testing.T) {
		db, path := openSQLite(t, false)
		cols := check(t, db)
		fixed := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)
		if !fixed.MatchString(cols[8]) || cols[8] != "2031-01-02T03:04:05.000006Z" {
			t.Fatalf("created_at stored as %q, want fixed-width UTC text", cols[8])
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(path + "*")
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), strings.TrimPrefix(plaintext, "dfoa_")) {
				t.Fatalf("plaintext token found in %s", f)
			}
		}
	})
	t.Run("postgres", func(t *testing.T) {
		postgresDSN(t)
		check(t, openPostgres(t, false))
	})
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, url := range []string{"", "mysql://u:p@h/db", "sqlite:", "sqlite:/tmp/x.db?mode=memory", "sqlite::memory:", "sqlite:file:x.db"} {
		if db, err := gormrepo.Open(ctx, url); err == nil {
			_ = db.Close()
			t.Errorf("Open(%q) succeeded, want an error", url)
		}
	}
	// Nothing listens on port 1: the outage is ErrUnavailable, and the error
	// does not repeat the password.
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := gormrepo.Open(ctx, "postgres://devicegate:s3cr3t-pw@127.0.0.1:1/x?sslmode=disable&connect_timeout=2")
	if !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("Open(unreachable) = %v, want domain.ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Fatalf("error repeats the password: %v", err)
	}
}

func TestPruneSessions(t *testing.T) {
	backends(t, func(t *testing.T, open func(bool) *gormrepo.DB) {
		ctx := context.Background()
		db := open(false)
		now := time.Date(2032, 1, 1, 0, 0, 0, 0, time.UTC)
		mk := func(hash string, expires time.Time) domain.ConsoleSession {
			s := domain.ConsoleSession{IDHash: hash, AccountID: "0b7e4f7c-95a4-4cb4-a1ba-7d3f3d8a1c11",
				CSRFToken: "c", CreatedAt: now.Add(-time.Hour), ExpiresAt: expires}
			if err := db.CreateSession(ctx, s); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
			return s
		}
		mk(domain.HashSecret("old"), now)
		live := mk(domain.HashSecret("live"), now.Add(time.Second))
		if err := db.CreateSession(ctx, live); !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("CreateSession(duplicate) = %v, want domain.ErrConflict", err)
		}
		if n, err := db.PruneSessions(ctx, now); err != nil || n != 1 {
			t.Fatalf("PruneSessions = %d, %v; want 1, nil", n, err)
		}
		if _, err := db.Session(ctx, live.IDHash, now); err != nil {
			t.Fatalf("live session pruned: %v", err)
		}
	})
}
