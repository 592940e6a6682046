package gormrepo

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// ownerClause checks f and renders it as a WHERE fragment over
// oauth_access_tokens (no alias). ok is false when f is refused (err) or can
// match no row (a malformed id), which callers answer with an empty result
// rather than a query error.
func ownerClause(f ports.TokenFilter) (clause string, args []any, ok bool, err error) {
	if err := f.Check(); err != nil {
		return "", nil, false, err
	}
	switch {
	case f.ID != "":
		id, ok := normID(f.ID)
		return "id = ?", []any{id}, ok, nil
	case f.AccountID != "":
		id, ok := normID(f.AccountID)
		return "account_id = ?", []any{id}, ok, nil
	}
	// Emails are compared case-insensitively: an operator types the address
	// as the person spells it, and an identity provider may send any case.
	return "lower(subject_email) = ? AND subject_issuer = ?",
		[]any{strings.ToLower(strings.TrimSpace(f.Email)), f.Issuer}, true, nil
}

// LiveTokens returns the unrevoked rows matching f with expires_at > now,
// newest first.
func (db *DB) LiveTokens(ctx context.Context, f ports.TokenFilter, now time.Time) ([]domain.AccessToken, error) {
	out := []domain.AccessToken{}
	clause, args, ok, err := ownerClause(f)
	if !ok {
		return out, err
	}
	ctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	var rows []tokenRow
	err = db.reader(ctx).Where("revoked_at IS NULL AND expires_at > ?", ts(now)).
		Where(clause, args...).Order("created_at DESC, id DESC").Find(&rows).Error
	if err != nil {
		return nil, translate("list owned tokens", err)
	}
	for _, r := range rows {
		out = append(out, r.domain())
	}
	return out, nil
}

// revokedRow is a row RevokeTokens changed and the hash it cleared.
type revokedRow struct {
	Row         tokenRow `gorm:"embedded"`
	ClearedHash string   `gorm:"column:cleared_hash"`
}

// RevokeTokens revokes every live row matching f in one transaction and
// returns them with the hashes it cleared. It may touch many rows (an
// account with many devices), so it is bounded like maintenance work.
func (db *DB) RevokeTokens(ctx context.Context, f ports.TokenFilter, now time.Time) ([]domain.AccessToken, error) {
	out := []domain.AccessToken{}
	clause, args, ok, err := ownerClause(f)
	if !ok {
		return out, err
	}
	ctx, cancel := bounded(ctx, maintenanceTimeout)
	defer cancel()
	var rows []revokedRow
	err = db.tx(ctx, func(tx *gorm.DB) error {
		if db.dialect == dialectPostgres {
			// As Revoke: the subquery locks the rows (in id order, the order
			// the last-used flush locks in, so the two cannot deadlock) and
			// re-checks the predicate after any wait; RETURNING reads the hash
			// as it was before this UPDATE.
			vars := append([]any{ts(now)}, args...)
			vars = append(vars, ts(now))
			return tx.Raw(`UPDATE oauth_access_tokens AS t
				SET revoked_at = ?, token_hash = NULL
				FROM (SELECT id, token_hash FROM oauth_access_tokens
				      WHERE `+clause+` AND revoked_at IS NULL AND expires_at > ?
				      ORDER BY id FOR UPDATE) AS old
				WHERE t.id = old.id AND t.revoked_at IS NULL
				RETURNING t.id, t.subject_email, t.subject_issuer, t.account_id, t.client_id, t.device_label,
					t.prefix, t.token_hash, t.created_at, t.last_used_at, t.expires_at, t.revoked_at,
					old.token_hash AS cleared_hash`, vars...).Scan(&rows).Error
		}
		// SQLite: one writer at a time and this transaction holds the write
		// lock from BEGIN (IMMEDIATE), so the read and the update see the same rows.
		live := append(append([]any{}, args...), ts(now))
		if err := tx.Raw(`SELECT `+tokenColumns+`, token_hash AS cleared_hash FROM oauth_access_tokens
			WHERE `+clause+` AND revoked_at IS NULL AND expires_at > ? ORDER BY id`, live...).Scan(&rows).Error; err != nil || len(rows) == 0 {
			return err
		}
		return tx.Exec(`UPDATE oauth_access_tokens SET revoked_at = ?, token_hash = NULL
			WHERE `+clause+` AND revoked_at IS NULL AND expires_at > ?`, append([]any{ts(now)}, live...)...).Error
	})
	if err != nil {
		return nil, translate("revoke owned tokens", err)
	}
	for _, r := range rows {
		t := r.Row.domain()
		t.TokenHash, t.RevokedAt = r.ClearedHash, now.UTC().Truncate(time.Microsecond)
		out = append(out, t)
	}
	return out, nil
}

// RevokedAfter returns up to limit (at least 1) revocations after the key
// `after`, oldest first. The range is served by ix_oauth_revoked_at, the
// pruner's partial index on revoked_at, so a poll that finds nothing reads
// one index page.
func (db *DB) RevokedAfter(ctx context.Context, after ports.Revocation, limit int) ([]ports.Revocation, error) {
	ctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	var rows []revocationRow
	if err := revokedAfterQuery(db.reader(ctx), after, limit).Scan(&rows).Error; err != nil {
		return nil, translate("revoked after", err)
	}
	out := make([]ports.Revocation, len(rows))
	for i, r := range rows {
		out[i] = ports.Revocation{ID: r.ID, RevokedAt: r.RevokedAt.Time()}
	}
	return out, nil
}

// revocationRow is one row of the revocation feed.
type revocationRow struct {
	ID        string  `gorm:"column:id"`
	RevokedAt sqlTime `gorm:"column:revoked_at"`
}

// revokedAfterQuery builds the feed's query on q (apart so a test can read its plan).
func revokedAfterQuery(q *gorm.DB, after ports.Revocation, limit int) *gorm.DB {
	q = q.Model(&tokenRow{}).Select("id, revoked_at")
	if after.RevokedAt.IsZero() {
		q = q.Where("revoked_at IS NOT NULL")
	} else {
		q = q.Where("revoked_at >= ?", ts(after.RevokedAt))
	}
	if id, ok := normID(after.ID); ok {
		q = q.Where("(revoked_at > ? OR id > ?)", ts(after.RevokedAt), id)
	}
	return q.Order("revoked_at, id").Limit(max(limit, 1))
}

// The offboarding ports *DB provides besides those listed in db.go.
var (
	_ ports.OwnedTokens    = (*DB)(nil)
	_ ports.RevocationFeed = (*DB)(nil)
	_ ports.AccountStatus  = (*DB)(nil)
)
