package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// Dialect names accepted by this package; each is a folder of migrations.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// versionTable is goose's bookkeeping table, created next to the schema (so a
// Postgres search_path isolates it along with the tables).
const versionTable = goose.DefaultTablename

// FS returns the migration files of dialect.
func FS(dialect string) (fs.FS, error) {
	if _, err := gooseDialect(dialect); err != nil {
		return nil, err
	}
	return fs.Sub(files, dialect)
}

// Up applies every pending migration of dialect to db. It is idempotent: a
// database already at the latest version is left untouched. On Postgres a
// session advisory lock keeps two instances from migrating at once.
func Up(ctx context.Context, db *sql.DB, dialect string) error {
	p, err := newProvider(db, dialect, true)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", dialect, err)
	}
	return nil
}

// Version reports the schema version recorded in db (0 when no migration was
// ever applied) and the latest version embedded in this binary. It only
// reads: unlike goose's own version calls it never creates the version table,
// so a serving instance can check a schema without touching it.
func Version(ctx context.Context, db *sql.DB, dialect string) (current, latest int64, err error) {
	p, err := newProvider(db, dialect, false)
	if err != nil {
		return 0, 0, err
	}
	sources := p.ListSources()
	if len(sources) == 0 {
		return 0, 0, fmt.Errorf("migrations: no %s migrations embedded", dialect)
	}
	latest = sources[len(sources)-1].Version

	exists, err := versionTableExists(ctx, db, dialect)
	if err != nil {
		return 0, latest, fmt.Errorf("migrations: read schema version: %w", err)
	}
	if !exists {
		return 0, latest, nil
	}
	d, _ := gooseDialect(dialect)
	store, err := database.NewStore(d, versionTable)
	if err != nil {
		return 0, latest, err
	}
	current, err = store.GetLatestVersion(ctx, db)
	if errors.Is(err, database.ErrVersionNotFound) {
		return 0, latest, nil
	}
	if err != nil {
		return 0, latest, fmt.Errorf("migrations: read schema version: %w", err)
	}
	return current, latest, nil
}

// versionTableExists looks the version table up in the catalog (in the
// current schema on Postgres, so a search_path isolates it).
func versionTableExists(ctx context.Context, db *sql.DB, dialect string) (bool, error) {
	q := `SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?)`
	if dialect == Postgres {
		q = `SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1)`
	}
	var exists bool
	err := db.QueryRowContext(ctx, q, versionTable).Scan(&exists)
	return exists, err
}

func newProvider(db *sql.DB, dialect string, locked bool) (*goose.Provider, error) {
	d, err := gooseDialect(dialect)
	if err != nil {
		return nil, err
	}
	fsys, err := fs.Sub(files, dialect)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{
		// Migrations come from the embedded files only, never from goose's
		// process-wide registry of Go migrations.
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(slog.New(slog.DiscardHandler)),
	}
	if locked && dialect == Postgres {
		// Retry every second (the default is every 5 s) for up to 5 minutes.
		l, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(l))
	}
	return goose.NewProvider(d, db, fsys, opts...)
}

func gooseDialect(dialect string) (goose.Dialect, error) {
	switch dialect {
	case SQLite:
		return goose.DialectSQLite3, nil
	case Postgres:
		return goose.DialectPostgres, nil
	}
	return "", fmt.Errorf("migrations: unknown dialect %q (want %q or %q)", dialect, SQLite, Postgres)
}
