package gormrepo

import (
	"cmp"
	"context"
	"slices"
	"strings"
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

// touchChunk is how many rows one last-used statement updates. Each chunk
// is one statement in its own transaction, so a flush holds at most this many
// row locks at a time, for one statement's time: a revoke or rotation of one
// of its rows waits for one chunk at most, never for the whole batch.
const touchChunk = 100

// TouchLastUsed sets last_used_at of each row that still holds the presented
// hash, never moving it backwards; a use of a replaced or revoked token
// matches no row and is dropped. The batch is written in chunks of
// touchChunk rows, in id order, each committed on its own (rows of a chunk
// already written stay written if a later chunk fails; the caller's retry
// rewrites them harmlessly). Instances flush overlapping batches at the same
// time; on Postgres each chunk first locks its rows in id order, which
// keeps their chunks from deadlocking.
func (db *DB) TouchLastUsed(ctx context.Context, seen map[ports.TokenUse]time.Time) error {
	batch := touches(seen)
	if len(batch) == 0 {
		return nil
	}
	ctx, cancel := bounded(ctx, maintenanceTimeout)
	defer cancel()
	for chunk := range slices.Chunk(batch, touchChunk) {
		query, args := db.touchStatement(chunk)
		// db.tx, not a bare statement: it pins READ COMMITTED (see DB.tx).
		err := db.tx(ctx, func(tx *gorm.DB) error {
			if db.dialect == dialectPostgres {
				// An UPDATE ... FROM locks rows in the order its join plan
				// visits them, not in the VALUES order, so two instances
				// flushing overlapping chunks could each hold a row the
				// other waits for (deadlock detected, 40P01). Take the
				// chunk's row locks first, in id order, in one statement.
				if err := tx.Exec(lockInIDOrder(len(chunk)), chunkIDs(chunk)...).Error; err != nil {
					return err
				}
			}
			return tx.Exec(query, args...).Error
		})
		if err != nil {
			return translate("touch last used", err)
		}
	}
	return nil
}

// touchStatement is one UPDATE joining the table to the chunk's (id, hash,
// at) rows given as VALUES.
func (db *DB) touchStatement(chunk []touch) (string, []any) {
	row := "(?, ?, ?)"
	if db.dialect == dialectPostgres {
		row = "(CAST(? AS uuid), CAST(? AS text), CAST(? AS timestamptz))"
	}
	values := strings.TrimSuffix(strings.Repeat(row+", ", len(chunk)), ", ")
	args := make([]any, 0, 3*len(chunk))
	for _, u := range chunk {
		args = append(args, u.id, u.hash, ts(u.at))
	}
	const set = ` SET last_used_at = v.at FROM `
	const where = ` WHERE t.id = v.id AND t.token_hash = v.hash AND (t.last_used_at IS NULL OR t.last_used_at < v.at)`
	if db.dialect == dialectPostgres {
		return `UPDATE oauth_access_tokens AS t` + set + `(VALUES ` + values + `) AS v(id, hash, at)` + where, args
	}
	return `UPDATE oauth_access_tokens AS t` + set +
		`(SELECT column1 AS id, column2 AS hash, column3 AS at FROM (VALUES ` + values + `)) AS v` + where, args
}

// lockInIDOrder locks n rows named by id, in id order (Postgres).
func lockInIDOrder(n int) string {
	in := strings.TrimSuffix(strings.Repeat("CAST(? AS uuid), ", n), ", ")
	return `SELECT id FROM oauth_access_tokens WHERE id IN (` + in + `) ORDER BY id FOR UPDATE`
}

// chunkIDs is the ids of a chunk (duplicates are harmless in IN).
func chunkIDs(chunk []touch) []any {
	ids := make([]any, len(chunk))
	for i, u := range chunk {
		ids[i] = u.id
	}
	return ids
}
