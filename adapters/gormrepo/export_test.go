package gormrepo

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// ExecForTest runs a statement on db (test setup and teardown only).
func ExecForTest(ctx context.Context, db *DB, query string, args ...any) error {
	return db.gorm.WithContext(ctx).Exec(query, args...).Error
}

// ScalarForTest runs a query returning one text value.
func ScalarForTest(ctx context.Context, db *DB, query string) (string, error) {
	var v string
	err := db.sql.QueryRowContext(ctx, query).Scan(&v)
	return v, err
}

// RowTextForTest returns every column of the oauth_access_tokens row with id
// as text, as the database holds it.
func RowTextForTest(ctx context.Context, db *DB, id string) ([]string, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT * FROM oauth_access_tokens WHERE id = "+db.placeholder(), id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	if !rows.Next() {
		return nil, fmt.Errorf("no row %s", id)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	out := make([]string, len(cols))
	for i, v := range vals {
		out[i] = fmt.Sprint(v)
	}
	return out, rows.Err()
}

func (db *DB) placeholder() string {
	if db.dialect == dialectPostgres {
		return "$1"
	}
	return "?"
}

// MintHoldingForTest runs the Postgres mint of t in a transaction and, with
// the mint done but not committed (its row lock held), calls hold with the
// backend pid of that transaction; the transaction commits when hold returns.
func MintHoldingForTest(ctx context.Context, db *DB, t domain.AccessToken, hold func(pid int)) error {
	a, err := newMintArgs(t)
	if err != nil {
		return err
	}
	return db.tx(ctx, func(tx *gorm.DB) error {
		if _, err := mintPostgresIn(ctx, tx, a); err != nil {
			return err
		}
		var pid int
		if err := tx.Raw("SELECT pg_backend_pid()").Scan(&pid).Error; err != nil {
			return err
		}
		hold(pid)
		return nil
	})
}

// HoldRowLockForTest locks the token row with id in a transaction (SELECT
// ... FOR UPDATE) and calls hold with that transaction's backend pid; the
// transaction ends when hold returns.
func HoldRowLockForTest(ctx context.Context, db *DB, id string, hold func(pid int)) error {
	return db.tx(ctx, func(tx *gorm.DB) error {
		var pid []int
		if err := tx.Raw("SELECT pg_backend_pid() FROM oauth_access_tokens WHERE id = ? FOR UPDATE", id).Scan(&pid).Error; err != nil {
			return err
		}
		if len(pid) != 1 {
			return fmt.Errorf("no row %s to lock", id)
		}
		hold(pid[0])
		return nil
	})
}

// SeedTokensForTest inserts n live account tokens created at created in one
// Postgres statement and returns their uses, in id order.
func SeedTokensForTest(ctx context.Context, db *DB, n int, created time.Time) ([]ports.TokenUse, error) {
	var rows []struct{ ID, TokenHash string }
	err := db.gorm.WithContext(ctx).Raw(`INSERT INTO oauth_access_tokens
		(id, subject_email, subject_issuer, account_id, client_id, device_label, prefix, token_hash, created_at, expires_at)
		SELECT gen_random_uuid(), 'seed-' || s.tag || '-' || g || '@example.com', 'dify:account', gen_random_uuid(),
			'difyctl', 'seed', 'dfoa_', encode(sha256(convert_to(s.tag || g, 'UTF8')), 'hex'), ?, ?
		FROM generate_series(1, ?) AS g, (SELECT md5(random()::text) AS tag) AS s
		RETURNING id, token_hash`, ts(created), ts(created.Add(14*24*time.Hour)), n).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	uses := make([]ports.TokenUse, len(rows))
	for i, r := range rows {
		uses[i] = ports.TokenUse{ID: r.ID, Hash: r.TokenHash}
	}
	slices.SortFunc(uses, func(a, b ports.TokenUse) int { return strings.Compare(a.ID, b.ID) })
	return uses, nil
}

// BlockedByForTest reports how many backends wait for a lock that the backend
// pid holds.
func BlockedByForTest(ctx context.Context, db *DB, pid int) (int, error) {
	var n int
	err := db.sql.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", pid).Scan(&n)
	return n, err
}

// TranslateForTest is translate, for table tests of the error mapping.
var TranslateForTest = translate

// MaintenanceTimeoutForTest is the bound of one prune batch or last-used flush.
const MaintenanceTimeoutForTest = maintenanceTimeout

// PoolStatsForTest is the connection pool's statistics.
func PoolStatsForTest(db *DB) sql.DBStats { return db.sql.Stats() }

// ExplainRevokeForTest is the Postgres plan (EXPLAIN, text) of Revoke's
// statement for the token id.
func ExplainRevokeForTest(ctx context.Context, db *DB, id string) (string, error) {
	rows, err := db.gorm.WithContext(ctx).Raw("EXPLAIN "+revokePostgres(true),
		revokePostgresArgs(time.Now(), id, "presented")...).Rows()
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", err
		}
		plan = append(plan, line)
	}
	return strings.Join(plan, "\n"), rows.Err()
}

// HoldWriteForTest runs query in a write transaction (on SQLite a BEGIN
// IMMEDIATE on the writer, which takes the file's write lock) and, with the
// statement run but not committed, calls hold; the transaction commits when
// hold returns.
func HoldWriteForTest(ctx context.Context, db *DB, query string, args []any, hold func()) error {
	return db.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(query, args...).Error; err != nil {
			return err
		}
		hold()
		return nil
	})
}

// CheckpointsForTest is how many background WAL checkpoints copied frames (SQLite).
func CheckpointsForTest(db *DB) int64 { return db.checkpoints.moved.Load() }
