package gormrepo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// tokenColumns lists oauth_access_tokens' columns in tokenRow order.
const tokenColumns = "id, subject_email, subject_issuer, account_id, client_id, device_label, prefix, " +
	"token_hash, created_at, last_used_at, expires_at, revoked_at"

// mintRow is what the mint upsert returns: the live row and the hash it replaced.
type mintRow struct {
	Row          tokenRow `gorm:"embedded"`
	ReplacedHash *string  `gorm:"column:replaced_hash"`
}

// Mint inserts t or rotates the live row of its (subject, client, device) in
// place with one upsert on uq_oauth_active_per_device (see mint_postgres.go
// and mint_sqlite.go). It checks the subject binding before writing anything.
func (db *DB) Mint(ctx context.Context, t domain.AccessToken) (ports.MintResult, error) {
	args, err := newMintArgs(t)
	if err != nil {
		return ports.MintResult{}, err
	}
	ctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	var row mintRow
	if db.dialect == dialectPostgres {
		row, err = db.mintPostgres(ctx, args)
	} else {
		row, err = db.mintSQLite(ctx, args)
	}
	if err != nil {
		return ports.MintResult{}, translate("mint", err)
	}
	res := ports.MintResult{Token: row.Row.domain()}
	if row.ReplacedHash != nil {
		res.Rotated, res.ReplacedHash = true, *row.ReplacedHash
	}
	return res, nil
}

// mintArgs are the bound values of a mint: the conflict key and the
// inserted values (id .. token_hash, created_at, expires_at).
type mintArgs struct {
	key    []any
	values []any
}

// newMintArgs checks t (subject binding, ids, required fields) and binds it.
func newMintArgs(t domain.AccessToken) (mintArgs, error) {
	if err := t.CheckBinding(); err != nil {
		return mintArgs{}, fmt.Errorf("gormrepo: mint: %w", err)
	}
	id, ok := normID(t.ID)
	if !ok {
		return mintArgs{}, fmt.Errorf("gormrepo: mint: token id %q is not a UUID", t.ID)
	}
	account, ok := nullID(t.AccountID)
	if !ok {
		return mintArgs{}, fmt.Errorf("gormrepo: mint: account id %q is not a UUID", t.AccountID)
	}
	if t.TokenHash == "" || t.ExpiresAt.IsZero() || t.CreatedAt.IsZero() {
		return mintArgs{}, errors.New("gormrepo: mint: token hash, created_at and expires_at are required")
	}
	return mintArgs{
		key:    []any{t.SubjectEmail, t.SubjectIssuer, t.ClientID, t.DeviceLabel},
		values: []any{id, t.SubjectEmail, t.SubjectIssuer, account, t.ClientID, t.DeviceLabel, t.Prefix, t.TokenHash, ts(t.CreatedAt), ts(t.ExpiresAt)},
	}, nil
}

// ByHash returns the row whose token_hash is hash.
func (db *DB) ByHash(ctx context.Context, hash string) (domain.AccessToken, error) {
	if hash == "" {
		return domain.AccessToken{}, domain.ErrNotFound
	}
	ctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	var row tokenRow
	err := db.reader(ctx).Where("token_hash = ?", hash).Take(&row).Error
	if err != nil {
		return domain.AccessToken{}, translate("token by hash", err)
	}
	return row.domain(), nil
}

// ByID returns the row with id.
func (db *DB) ByID(ctx context.Context, id string) (domain.AccessToken, error) {
	id, ok := normID(id)
	if !ok {
		return domain.AccessToken{}, domain.ErrNotFound
	}
	ctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	var row tokenRow
	if err := db.reader(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return domain.AccessToken{}, translate("token by id", err)
	}
	return row.domain(), nil
}

// Revoke sets revoked_at and nulls token_hash on the row if it is still not
// revoked and, unless expectHash is "", still holds expectHash, and returns
// the hash it cleared; the read and the update are one atomic step, so of two
// concurrent revokes one gets the hash and the other domain.ErrNotFound, and
// a revoke of a presented token that waits on a rotation of its row finds
// the new hash and leaves the row alone.
func (db *DB) Revoke(ctx context.Context, id, expectHash string, now time.Time) (string, error) {
	id, ok := normID(id)
	if !ok {
		return "", domain.ErrNotFound
	}
	match, args := "id = ? AND revoked_at IS NULL", []any{id}
	if expectHash != "" {
		match, args = match+" AND token_hash = ?", append(args, expectHash)
	}
	ctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	var cleared []string
	var err error
	if db.dialect == dialectPostgres {
		// One statement, so no transaction around it (one round trip): the
		// CTE locks the row and returns it as the last concurrent writer
		// left it, so the checks on old see the current row; RETURNING
		// reads the hash as it was before this UPDATE. Should a stricter
		// server default isolation make it lose a serialization race (it
		// then wrote nothing), it runs again in a READ COMMITTED transaction.
		q, qargs := revokePostgres(expectHash != ""), revokePostgresArgs(now, id, expectHash)
		err = db.gorm.WithContext(ctx).Raw(q, qargs...).Scan(&cleared).Error
		if isSerializationFailure(err) {
			cleared = nil
			err = db.tx(ctx, func(tx *gorm.DB) error { return tx.Raw(q, qargs...).Scan(&cleared).Error })
		}
	} else {
		err = db.revokeSQLite(ctx, match, args, now, &cleared)
	}
	if err != nil {
		return "", translate("revoke", err)
	}
	if len(cleared) != 1 {
		return "", domain.ErrNotFound
	}
	return cleared[0], nil
}

// revokeSQLite reads the hash and clears the row in one transaction on the
// single writer, so nothing changes the row between the two statements.
func (db *DB) revokeSQLite(ctx context.Context, match string, args []any, now time.Time, cleared *[]string) error {
	return db.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Raw(`SELECT token_hash FROM oauth_access_tokens WHERE `+match, args...).Scan(cleared).Error; err != nil || len(*cleared) == 0 {
			return err
		}
		return tx.Exec(`UPDATE oauth_access_tokens SET revoked_at = ?, token_hash = NULL WHERE `+match,
			append([]any{ts(now)}, args...)...).Error
	})
}

// revokePostgres is Revoke's statement on Postgres, with the presented hash
// checked when matchHash. Both scans name the row by id alone, so the only
// index whose predicate they imply is the primary key: with "revoked_at IS
// NULL" in a scan's WHERE, every partial index on live rows qualifies too,
// and on a table whose statistics are missing or stale (just created, just
// filled) the planner took one of them and read every live row to find the
// id. Under 32 concurrent revokes those scans queued on buffer locks into
// the 2 s bound (503s). Liveness and the hash are checked on old, the locked
// row.
func revokePostgres(matchHash bool) string {
	// MATERIALIZED keeps the planner from pushing the checks on old back
	// into the locking scan, where they would qualify the partial indexes.
	q := `WITH old AS MATERIALIZED (
			SELECT id, token_hash, revoked_at FROM oauth_access_tokens WHERE id = ? FOR UPDATE)
		UPDATE oauth_access_tokens AS t
		SET revoked_at = ?, token_hash = NULL
		FROM old
		WHERE t.id = ? AND t.id = old.id AND old.revoked_at IS NULL`
	if matchHash {
		q += ` AND old.token_hash = ?`
	}
	return q + ` RETURNING old.token_hash`
}

// revokePostgresArgs binds revokePostgres.
func revokePostgresArgs(now time.Time, id, expectHash string) []any {
	args := []any{id, ts(now), id}
	if expectHash != "" {
		args = append(args, expectHash)
	}
	return args
}

// ExpireHard is the compare-and-set of SPEC 3.4: it revokes the row only if
// it is still live in the table and expires_at <= now. The database decides
// the race, so exactly one caller sees won.
func (db *DB) ExpireHard(ctx context.Context, id string, now time.Time) (bool, error) {
	id, ok := normID(id)
	if !ok {
		return false, nil
	}
	ctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	var won bool
	err := db.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE oauth_access_tokens SET revoked_at = ?, token_hash = NULL
			WHERE id = ? AND revoked_at IS NULL AND expires_at <= ?`, ts(now), id, ts(now))
		won = res.RowsAffected == 1
		return res.Error
	})
	if err != nil {
		return false, translate("expire", err)
	}
	return won, nil
}
