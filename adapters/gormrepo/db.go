package gormrepo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/migrations"
	"github.com/devicegate/devicegate/ports"
)

// dialectPostgres names the Postgres dialect (anything else is SQLite).
const dialectPostgres = migrations.Postgres

// DB is one SQL database holding tokens, accounts and console sessions. It
// implements ports.TokenStore, ports.AccountDirectory, ports.AccountAdmin,
// ports.ConsoleSessions and ports.Pinger. It is safe for concurrent use.
type DB struct {
	gorm *gorm.DB
	sql  *sql.DB
	// read serves the pure reads made outside any transaction (see reader).
	// On SQLite it is a pool of query-only connections to the same file,
	// readSQL; on Postgres it is gorm itself and readSQL is nil.
	read    *gorm.DB
	readSQL *sql.DB
	// checkpoints runs SQLite's WAL checkpoints off the request path (nil on Postgres).
	checkpoints *checkpointer
	dialect     string // migrations.SQLite or migrations.Postgres
}

// Open connects to databaseURL: "sqlite:PATH" (the file and its parent
// directory are created when missing) or "postgres://..." /
// "postgresql://...". It checks that the database answers but does not
// touch the schema: call Migrate or CheckSchema next. Error messages never
// repeat the URL, which may carry a password.
func Open(ctx context.Context, databaseURL string) (*DB, error) {
	switch {
	case strings.HasPrefix(databaseURL, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(databaseURL, "sqlite:"))
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		return openPostgres(ctx, databaseURL)
	}
	return nil, errors.New("gormrepo: database URL must start with sqlite:, postgres:// or postgresql://")
}

// Bounds that turn a database that stops answering (a server stopped or
// overloaded, a silent network partition, a file locked by another process)
// into domain.ErrUnavailable instead of a hang: a statement on a connection
// to a frozen server otherwise waits for TCP to give up, many minutes later,
// whenever the caller's context has no deadline of its own.
const (
	// opTimeout caps one request-path call (all of its statements).
	opTimeout = 2 * time.Second
	// maintenanceTimeout caps one prune batch or one last-used flush, which
	// may touch many rows but must not hang either.
	maintenanceTimeout = 30 * time.Second
)

// postgresPoolSize is how many connections one instance holds to Postgres.
const postgresPoolSize = 20

// bounded caps ctx at d (the caller's own deadline wins when sooner).
func bounded(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

// sqliteBusyTimeout is how long a statement waits for the file lock; with one
// writing connection per process (WAL readers never wait for the writer)
// this only matters when another process (a CLI subcommand next to a
// running server) holds it. It is no longer than opTimeout because the
// driver's BEGIN (IMMEDIATE, so it takes the lock) ignores the context: only
// this timeout ends its wait.
const sqliteBusyTimeout = opTimeout

// sqliteReaders bounds the read-only connections to the SQLite file: two per
// core, at least 4 and at most 8. A read is CPU-bound pure-Go code, so a few
// per core keep every core busy (a connection also idles while its caller
// scans rows or is descheduled); past that the queue only moves from the pool
// into the scheduler, and each connection holds its own page cache (up to
// 2 MiB).
var sqliteReaders = min(max(2*runtime.NumCPU(), 4), 8)

func openSQLite(ctx context.Context, path string) (*DB, error) {
	path = strings.TrimPrefix(path, "//") // accept sqlite:///abs/path too
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, errors.New("gormrepo: sqlite URL needs a file path (sqlite:PATH) and no query string")
	}
	// The readers open the file by name: an in-memory database would be a
	// different, empty one on each connection.
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, errors.New("gormrepo: sqlite URL needs a file path (sqlite:PATH), not :memory: or a file: URI")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("gormrepo: create the SQLite directory: %w", err)
	}
	busy := fmt.Sprintf("?_pragma=busy_timeout(%d)", sqliteBusyTimeout.Milliseconds())
	g, sqlDB, err := openSQLitePool(path + busy + "&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)&_pragma=wal_autocheckpoint(0)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	// One writing connection serialises every write and transaction of this
	// process, so concurrent writers queue in Go instead of failing with
	// SQLITE_BUSY, and a mint's read-then-upsert transaction cannot interleave
	// with another. The embedded database serves one instance; Postgres is
	// the choice for more.
	sqlDB.SetMaxOpenConns(1)
	sqlDB.SetMaxIdleConns(1)
	db := &DB{gorm: g, sql: sqlDB, read: g, dialect: migrations.SQLite}
	// The writer's ping creates the file and switches it to WAL (a lasting
	// property of the file) before any reader opens it.
	if err := db.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	// The file holds password and token hashes: owner-only (SQLite gives the
	// -wal and -shm files the same mode).
	if err := os.Chmod(path, 0o600); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("gormrepo: restrict the SQLite file's mode: %w", err)
	}
	// The readers: in WAL mode they read alongside the writer, each
	// statement from a snapshot of every transaction committed before it
	// began, so a read never waits for a write transaction (a mint, a flush
	// of last-used times, a prune batch) and still sees every write that
	// returned before it. query_only makes a write on them an error.
	rg, readSQL, err := openSQLitePool(path + busy + "&_pragma=query_only(1)")
	if err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	readSQL.SetMaxOpenConns(sqliteReaders)
	readSQL.SetMaxIdleConns(sqliteReaders)
	db.read, db.readSQL = rg, readSQL
	if db.checkpoints, err = startCheckpointer(path + busy); err != nil { //nolint:contextcheck // it outlives Open's context; Close stops it
		_ = db.Close()
		return nil, err
	}
	if err := db.Ping(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// openSQLitePool opens a connection pool on dsn whose connections live as
// long as the pool.
func openSQLitePool(dsn string) (*gorm.DB, *sql.DB, error) {
	g, err := gorm.Open(sqlite.Open(dsn), sqliteGormConfig())
	if err != nil {
		return nil, nil, fmt.Errorf("gormrepo: open SQLite: %w", err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, nil, err
	}
	sqlDB.SetConnMaxLifetime(0)
	return g, sqlDB, nil
}

func openPostgres(ctx context.Context, url string) (*DB, error) {
	g, err := gorm.Open(postgres.New(postgres.Config{DSN: url}), gormConfig())
	if err != nil {
		return nil, translate("open", err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, err
	}
	// As many idle slots as connections: with fewer, every call that ends
	// while more connections are busy than there are idle slots closes its
	// connection, and the next call forks a new Postgres backend. Under a
	// burst that churn was the tail of every Postgres-bound request (p99
	// 200-300 ms, calls past the 2 s bound); idle connections still close
	// after ConnMaxIdleTime.
	sqlDB.SetMaxOpenConns(postgresPoolSize)
	sqlDB.SetMaxIdleConns(postgresPoolSize)
	sqlDB.SetConnMaxLifetime(30 * time.Minute)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{gorm: g, sql: sqlDB, read: g, dialect: migrations.Postgres}
	if err := db.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return db, nil
}

func gormConfig() *gorm.Config {
	return &gorm.Config{
		// GORM's SQL log would print bound values (hashes, emails); errors are
		// returned to the caller instead.
		Logger: logger.Discard,
		// Single statements are atomic already; transactions are explicit.
		SkipDefaultTransaction: true,
		// GORM's own ping has no deadline (a frozen server would hang Open);
		// Open pings with a bounded context instead.
		DisableAutomaticPing: true,
	}
}

// Dialect reports "sqlite" or "postgres" (the migrations folder in use).
func (db *DB) Dialect() string { return db.dialect }

// Name names the backend for readiness checks (ports.Pinger).
func (db *DB) Name() string { return "database" }

// Ping returns nil when the database answers (on SQLite, to the writer and
// to the readers), else a domain.ErrUnavailable.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	err := db.sql.PingContext(ctx)
	if err == nil && db.readSQL != nil {
		err = db.readSQL.PingContext(ctx)
	}
	if err != nil {
		return domain.Unavailable("database", err)
	}
	return nil
}

// Close closes the connection pools, SQLite's readers first: the last
// connection to close checkpoints the WAL into the file.
func (db *DB) Close() error {
	var errs []error
	if db.checkpoints != nil {
		errs = append(errs, db.checkpoints.close())
	}
	if db.readSQL != nil {
		errs = append(errs, db.readSQL.Close())
	}
	return errors.Join(append(errs, db.sql.Close())...)
}

// reader is the handle for a pure read outside any transaction: a single
// statement, or statements that need no common snapshot. Whatever writes, or
// reads in order to write, goes through db.gorm or db.tx: SQLite's readers
// refuse writes, and their snapshot is not the writer's.
func (db *DB) reader(ctx context.Context) *gorm.DB { return db.read.WithContext(ctx) }

// Migrate applies every pending migration of the database's dialect; it is
// idempotent.
func (db *DB) Migrate(ctx context.Context) error {
	if err := migrations.Up(ctx, db.sql, db.dialect); err != nil {
		return translate("migrate", err)
	}
	return nil
}

// CheckSchema returns an error telling the operator to run `devicegate
// migrate` when the schema is older than this binary's latest migration. It
// only reads.
func (db *DB) CheckSchema(ctx context.Context) error {
	current, latest, err := migrations.Version(ctx, db.sql, db.dialect)
	if err != nil {
		return translate("check schema", err)
	}
	if current < latest {
		return fmt.Errorf("database schema is at version %d, this binary needs %d: run `devicegate migrate` first", current, latest)
	}
	return nil
}

// tx runs fn in one transaction, at READ COMMITTED on Postgres whatever
// default_transaction_isolation the server, database or role sets: the
// compare-and-set updates, the mint's locking re-run and the workspace
// join are written for READ COMMITTED, which re-reads a row a concurrent
// writer changed, where REPEATABLE READ or SERIALIZABLE would fail them
// with serialization errors. (An explicit BEGIN rather than a startup
// parameter keeps working behind transaction-pooling proxies.) SQLite
// transactions are serializable and, on the one writing connection, never
// conflict.
func (db *DB) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if db.dialect == dialectPostgres {
		return db.gorm.WithContext(ctx).Transaction(fn, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	}
	return db.gorm.WithContext(ctx).Transaction(fn)
}

// The ports one *DB provides.
var (
	_ ports.TokenStore       = (*DB)(nil)
	_ ports.AccountDirectory = (*DB)(nil)
	_ ports.AccountAdmin     = (*DB)(nil)
	_ ports.ConsoleSessions  = (*DB)(nil)
	_ ports.Pinger           = (*DB)(nil)
)

// sqliteGormConfig caches prepared statements: on the single SQLite
// connection, parsing SQL was about a third of a listing's cost.
func sqliteGormConfig() *gorm.Config {
	c := gormConfig()
	c.PrepareStmt = true
	return c
}
