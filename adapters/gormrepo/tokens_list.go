package gormrepo

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/devicegate/devicegate/domain"
)

// ListLive returns the owner's unrevoked rows with expires_at > now, newest
// first (ties broken by id, so pages never overlap), one page of size limit,
// and their total count. page < 1 is read as 1 and limit < 1 as 1.
func (db *DB) ListLive(ctx context.Context, owner domain.Owner, now time.Time, page, limit int) ([]domain.AccessToken, int, error) {
	page, limit = max(page, 1), max(limit, 1)
	ctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	q := db.reader(ctx).Model(&tokenRow{}).Where("revoked_at IS NULL AND expires_at > ?", ts(now))
	if owner.AccountID != "" {
		id, ok := normID(owner.AccountID)
		if !ok {
			return []domain.AccessToken{}, 0, nil
		}
		q = q.Where("account_id = ?", id)
	} else {
		q = q.Where("account_id IS NULL AND subject_email = ? AND subject_issuer = ?", owner.Email, owner.Issuer)
	}
	var rows []tokenRow
	err := q.Session(&gorm.Session{}).Order("created_at DESC, id DESC").Limit(limit).Offset((page - 1) * limit).Find(&rows).Error
	if err != nil {
		return nil, 0, translate("list tokens", err)
	}
	// A short first page is the whole list: the common case (a user has a
	// few devices) costs one statement, not two.
	total := int64(len(rows))
	if page > 1 || len(rows) == limit {
		if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
			return nil, 0, translate("list tokens", err)
		}
	}
	out := make([]domain.AccessToken, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, int(total), nil
}

// defaultPruneBatch is used when Prune is given a batch size below 1.
const defaultPruneBatch = 500

// Prune deletes rows revoked before cutoff, or never revoked and expired
// before cutoff, batch rows per statement (short statements keep locks
// short), until a batch comes back short. It returns how many it deleted;
// running it again with the same cutoff deletes nothing. (A batch also comes
// back short when a row it picked was revived meanwhile, see pruneBatch;
// rows left then go on the next run.)
func (db *DB) Prune(ctx context.Context, cutoff time.Time, batch int) (int64, error) {
	if batch < 1 {
		batch = defaultPruneBatch
	}
	var deleted int64
	for {
		n, err := db.pruneBatch(ctx, cutoff, batch)
		if err != nil {
			return deleted, translate("prune", err)
		}
		deleted += n
		if n < int64(batch) {
			return deleted, nil
		}
	}
}

// prunable is the retention predicate of SPEC 3.6 (both bind the cutoff).
const prunable = `(revoked_at < ? OR (revoked_at IS NULL AND expires_at < ?))`

// pruneBatch deletes up to batch prunable rows, bounded by maintenanceTimeout.
// The outer WHERE restates the predicate: a never-revoked row that expired
// long ago is still its device's live row, so a login may rotate it in place
// (revive it) while the DELETE waits for its lock, and at READ COMMITTED
// Postgres then re-checks only the outer WHERE against the revived row; the
// ids the subquery picked from its older snapshot would still match.
func (db *DB) pruneBatch(ctx context.Context, cutoff time.Time, batch int) (int64, error) {
	ctx, cancel := bounded(ctx, maintenanceTimeout)
	defer cancel()
	var n int64
	err := db.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`DELETE FROM oauth_access_tokens
			WHERE id IN (SELECT id FROM oauth_access_tokens WHERE `+prunable+` LIMIT ?)
			AND `+prunable, ts(cutoff), ts(cutoff), batch, ts(cutoff), ts(cutoff))
		n = res.RowsAffected
		return res.Error
	})
	return n, err
}
