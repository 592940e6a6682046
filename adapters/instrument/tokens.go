package instrument

import (
	"context"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// tokens observes a ports.TokenStore.
type tokens struct {
	next                                                       ports.TokenStore
	mint, byHash, byID, revoke, expire, listLive, touch, prune op
}

// Tokens returns t with every call observed as backend's.
func Tokens(t ports.TokenStore, backend string, s Set) ports.TokenStore {
	return &tokens{next: t, mint: s.op(backend, "token_mint"), byHash: s.op(backend, "token_by_hash"),
		byID: s.op(backend, "token_by_id"), revoke: s.op(backend, "token_revoke"),
		expire: s.op(backend, "token_expire_hard"), listLive: s.op(backend, "token_list_live"),
		touch: s.op(backend, "token_touch_last_used"), prune: s.op(backend, "token_prune")}
}

func (d *tokens) Mint(ctx context.Context, t domain.AccessToken) (ports.MintResult, error) {
	ctx, began := d.mint.begin(ctx)
	r, err := d.next.Mint(ctx, t)
	d.mint.end(ctx, began, err)
	return r, err
}

func (d *tokens) ByHash(ctx context.Context, hash string) (domain.AccessToken, error) {
	ctx, began := d.byHash.begin(ctx)
	r, err := d.next.ByHash(ctx, hash)
	d.byHash.end(ctx, began, err)
	return r, err
}

func (d *tokens) ByID(ctx context.Context, id string) (domain.AccessToken, error) {
	ctx, began := d.byID.begin(ctx)
	r, err := d.next.ByID(ctx, id)
	d.byID.end(ctx, began, err)
	return r, err
}

func (d *tokens) Revoke(ctx context.Context, id, expectHash string, now time.Time) (string, error) {
	ctx, began := d.revoke.begin(ctx)
	r, err := d.next.Revoke(ctx, id, expectHash, now)
	d.revoke.end(ctx, began, err)
	return r, err
}

func (d *tokens) ExpireHard(ctx context.Context, id string, now time.Time) (bool, error) {
	ctx, began := d.expire.begin(ctx)
	r, err := d.next.ExpireHard(ctx, id, now)
	d.expire.end(ctx, began, err)
	return r, err
}

func (d *tokens) ListLive(ctx context.Context, owner domain.Owner, now time.Time, page, limit int) ([]domain.AccessToken, int, error) {
	ctx, began := d.listLive.begin(ctx)
	r, n, err := d.next.ListLive(ctx, owner, now, page, limit)
	d.listLive.end(ctx, began, err)
	return r, n, err
}

func (d *tokens) TouchLastUsed(ctx context.Context, seen map[ports.TokenUse]time.Time) error {
	ctx, began := d.touch.begin(ctx)
	err := d.next.TouchLastUsed(ctx, seen)
	d.touch.end(ctx, began, err)
	return err
}

func (d *tokens) Prune(ctx context.Context, cutoff time.Time, batch int) (int64, error) {
	ctx, began := d.prune.begin(ctx)
	n, err := d.next.Prune(ctx, cutoff, batch)
	d.prune.end(ctx, began, err)
	return n, err
}

// feed observes a ports.RevocationFeed.
type feed struct {
	next  ports.RevocationFeed
	after op
}

// Feed returns f with every call observed as backend's.
func Feed(f ports.RevocationFeed, backend string, s Set) ports.RevocationFeed {
	return &feed{next: f, after: s.op(backend, "revocations_after")}
}

func (d *feed) RevokedAfter(ctx context.Context, after ports.Revocation, limit int) ([]ports.Revocation, error) {
	ctx, began := d.after.begin(ctx)
	r, err := d.next.RevokedAfter(ctx, after, limit)
	d.after.end(ctx, began, err)
	return r, err
}
