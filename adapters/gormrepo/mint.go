package gormrepo

import (
	"context"
	"errors"

	"gorm.io/gorm"
)

// mintConflict is the arbiter of the mint upsert: the partial unique index
// uq_oauth_active_per_device. The WHERE makes the engine pick that index.
const mintConflict = `ON CONFLICT (subject_email, subject_issuer, client_id, device_label) WHERE revoked_at IS NULL
	DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at,
		expires_at = excluded.expires_at, last_used_at = NULL,
		account_id = excluded.account_id, prefix = excluded.prefix`

const mintInsert = `INSERT INTO oauth_access_tokens AS t
	(id, subject_email, subject_issuer, account_id, client_id, device_label, prefix, token_hash, created_at, expires_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) `

// mintPostgresSQL is one statement. The CTE locks the live row of the key, if
// any, and so reads the hash being replaced; the upsert then rotates exactly
// that row. Should a live row appear after the CTE's snapshot (a concurrent
// first mint), the DO UPDATE's WHERE fails, nothing is returned, and the
// statement is run again: it then finds and locks that row. Concurrent
// mints therefore never fail, and every rotation reports the hash it replaced.
const mintPostgresSQL = `WITH old AS (
	SELECT id, token_hash FROM oauth_access_tokens
	WHERE subject_email = ? AND subject_issuer = ? AND client_id = ? AND device_label = ? AND revoked_at IS NULL
	FOR UPDATE)
` + mintInsert + mintConflict + `
	WHERE t.id = (SELECT id FROM old)
RETURNING t.id, t.subject_email, t.subject_issuer, t.account_id, t.client_id, t.device_label, t.prefix,
	t.token_hash, t.created_at, t.last_used_at, t.expires_at, t.revoked_at,
	(SELECT token_hash FROM old) AS replaced_hash`

// mintAttempts bounds the re-runs of mintPostgresSQL; each re-run needs a new
// first mint of the same key to slip in, so two are almost always enough. The
// re-runs share one READ COMMITTED transaction (see DB.tx): each statement
// takes a fresh snapshot, and a lock taken by a failed attempt is kept.
const mintAttempts = 10

// mintPostgres runs the mint statement once on its own (one round trip: a
// single statement is atomic, and when it returns no row or fails it wrote
// nothing), then, only if a concurrent first mint of the same key made it
// return no row, or a stricter server default isolation made it lose a
// serialization race, re-runs it in one READ COMMITTED transaction as
// described at mintPostgresSQL.
func (db *DB) mintPostgres(ctx context.Context, a mintArgs) (mintRow, error) {
	row, ok, err := mintPostgresOnce(db.gorm.WithContext(ctx), a)
	if ok || (err != nil && !isSerializationFailure(err)) {
		return row, err
	}
	err = db.tx(ctx, func(tx *gorm.DB) (err error) {
		row, err = mintPostgresIn(ctx, tx, a)
		return err
	})
	return row, err
}

// mintPostgresOnce runs the mint statement once on g; ok is false when it
// returned no row (and so wrote nothing).
func mintPostgresOnce(g *gorm.DB, a mintArgs) (row mintRow, ok bool, err error) {
	var rows []mintRow
	if err := g.Raw(mintPostgresSQL, append(append([]any{}, a.key...), a.values...)...).Scan(&rows).Error; err != nil {
		return mintRow{}, false, err
	}
	if len(rows) != 1 {
		return mintRow{}, false, nil
	}
	return rows[0], true, nil
}

// mintPostgresIn runs the mint statement in tx, re-running it as described
// at mintPostgresSQL.
func mintPostgresIn(ctx context.Context, tx *gorm.DB, a mintArgs) (mintRow, error) {
	for range mintAttempts {
		row, ok, err := mintPostgresOnce(tx, a)
		if err != nil || ok {
			return row, err
		}
		if err := ctx.Err(); err != nil {
			return mintRow{}, err
		}
	}
	return mintRow{}, errors.New("mint kept losing races for the same device")
}

// mintSQLite reads the live row's hash and upserts in one transaction. The
// single writing connection (and BEGIN IMMEDIATE) serialise writers, so nothing can
// change the key between the two statements.
func (db *DB) mintSQLite(ctx context.Context, a mintArgs) (mintRow, error) {
	var out mintRow
	err := db.tx(ctx, func(tx *gorm.DB) error {
		var old []string
		if err := tx.Raw(`SELECT token_hash FROM oauth_access_tokens
			WHERE subject_email = ? AND subject_issuer = ? AND client_id = ? AND device_label = ? AND revoked_at IS NULL`,
			a.key...).Scan(&old).Error; err != nil {
			return err
		}
		var rows []tokenRow
		if err := tx.Raw(mintInsert+mintConflict+" RETURNING "+tokenColumns, a.values...).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) != 1 {
			return errors.New("mint upsert returned no row")
		}
		out.Row = rows[0]
		if len(old) == 1 {
			out.ReplacedHash = &old[0]
		}
		return nil
	})
	return out, err
}
