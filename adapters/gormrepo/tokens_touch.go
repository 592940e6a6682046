package gormrepo

import (
	"cmp"
	"context"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/devicegate/devicegate/ports"
)

// touch is one last-used write: the row, the hash that was presented, the time.
type touch struct {
	id, hash string
	at       time.Time
}

// touches normalises a batch: malformed ids, empty hashes and zero times are
// dropped, duplicates keep their latest time, and the result is in (id, hash)
// order, the order rows are locked in.
func touches(seen map[ports.TokenUse]time.Time) []touch {
	latest := make(map[ports.TokenUse]time.Time, len(seen))
	for u, at := range seen {
		id, ok := normID(u.ID)
		if !ok || u.Hash == "" || at.IsZero() {
			continue
		}
		key := ports.TokenUse{ID: id, Hash: u.Hash}
		if prev, dup := latest[key]; !dup || at.After(prev) {
			latest[key] = at
		}
	}
	out := make([]touch, 0, len(latest))
	for u, at := range latest {
		out = append(out, touch{id: u.ID, hash: u.Hash, at: at})
	}
	slices.SortFunc(out, func(a, b touch) int { return cmp.Or(cmp.Compare(a.id, b.id), cmp.Compare(a.hash, b.hash)) })
	return out
}

// TouchLastUsed sets last_used_at of each row that still holds the presented
// hash, never moving it backwards; a use of a replaced or revoked token
// matches no row and is dropped. Rows are updated in id order: instances
// flush overlapping batches at the same time, and two transactions locking
// the same rows in different (map) orders would deadlock on Postgres.
func (db *DB) TouchLastUsed(ctx context.Context, seen map[ports.TokenUse]time.Time) error {
	batch := touches(seen)
	if len(batch) == 0 {
		return nil
	}
	ctx, cancel := bounded(ctx, maintenanceTimeout)
	defer cancel()
	err := db.tx(ctx, func(tx *gorm.DB) error {
		for _, u := range batch {
			if err := tx.Exec(`UPDATE oauth_access_tokens SET last_used_at = ?
				WHERE id = ? AND token_hash = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
				ts(u.at), u.id, u.hash, ts(u.at)).Error; err != nil {
				return err
			}
		}
		return nil
	})
	return translate("touch last used", err)
}
