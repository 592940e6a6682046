package ports

import (
	"context"
	"time"

	"github.com/devicegate/devicegate/domain"
)

// MintResult is the outcome of a mint: the live row and, when a live row for
// the same (subject, client, device) was rotated in place, the hash it replaced.
type MintResult struct {
	Token        domain.AccessToken
	Rotated      bool
	ReplacedHash string
}

// TokenRepository stores access-token rows (only hashes, never tokens).
// Backend outages are returned as domain.ErrUnavailable.
type TokenRepository interface {
	// Mint inserts t, or rotates in place the live row with the same
	// (subject_email, subject_issuer, client_id, device_label): hash, expiry
	// and created_at are replaced, id kept. t.ID is used only for a new row.
	// It checks t.CheckBinding first and writes nothing when it fails.
	Mint(ctx context.Context, t domain.AccessToken) (MintResult, error)
	// ByHash returns the row whose token_hash is hash. Returns domain.ErrNotFound if none.
	ByHash(ctx context.Context, hash string) (domain.AccessToken, error)
	// ByID returns the row with id. Returns domain.ErrNotFound if none.
	ByID(ctx context.Context, id string) (domain.AccessToken, error)
	// Revoke sets revoked_at = now and nulls token_hash where the row is still
	// not revoked and, unless expectHash is "", still holds expectHash, and
	// returns the hash it cleared. A caller that presented a token passes its
	// hash, so a revoke that races a rotation of the same row never revokes
	// the token that replaced the presented one; revoke-by-id passes "".
	// Returns domain.ErrNotFound if there is no such row (so a second revoke,
	// or a revoke of a token already replaced, is a no-op for callers).
	Revoke(ctx context.Context, id, expectHash string, now time.Time) (string, error)
}

// TokenExpirer performs the hard-expiry compare-and-set of SPEC 3.4.
type TokenExpirer interface {
	// ExpireHard revokes the row with id and hash if it is still live in the
	// table and expires_at <= now. won is true only for the single caller whose
	// update changed the row.
	ExpireHard(ctx context.Context, id string, now time.Time) (won bool, err error)
}

// TokenUse names one presented token: the row id and the hash presented.
// A rotation keeps the id and replaces the hash, so the pair tells a use of
// the replaced token from a use of its successor.
type TokenUse struct {
	ID, Hash string
}

// TokenSessions lists and touches a subject's live rows.
type TokenSessions interface {
	// ListLive returns the owner's unrevoked, unexpired rows at now, newest first,
	// page (1-based) of size limit, and the total count.
	ListLive(ctx context.Context, owner domain.Owner, now time.Time, page, limit int) ([]domain.AccessToken, int, error)
	// TouchLastUsed sets last_used_at of each used row to the given time,
	// never moving it backwards, and only while the row still holds the hash
	// that was presented: a use of a token since replaced or revoked is
	// dropped. Unknown and malformed ids are skipped. A revoke or rotation of
	// one of the rows never waits for the whole batch.
	TouchLastUsed(ctx context.Context, seen map[TokenUse]time.Time) error
}

// TokenPruner deletes old rows (SPEC 3.6).
type TokenPruner interface {
	// Prune deletes, in batches of batch rows, rows revoked before cutoff or
	// unrevoked and expired before cutoff; it returns how many it deleted.
	Prune(ctx context.Context, cutoff time.Time, batch int) (int64, error)
}

// TokenStore is what one SQL backend provides for tokens.
type TokenStore interface {
	TokenRepository
	TokenExpirer
	TokenSessions
	TokenPruner
}
