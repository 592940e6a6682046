package app

import (
	"context"
	"fmt"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// Offboard lists and revokes every live token of one person at once:
// `devicegate tokens list|revoke` (SPEC 7.1), disabling an account, and the
// bearer check that finds a live token of an inactive account.
//
// The revocation is in the database first; then each cleared hash is
// invalidated in Cache, which with Redis reaches every instance at once. An
// instance whose cache this process cannot reach (the embedded memory cache
// of a running `serve`) learns of the revocation from the database through
// its RevocationWatch, within about RevocationPollEvery.
type Offboard struct {
	Env
	Tokens ports.OwnedTokens
	Cache  ports.TokenCache // optional: nil when no shared cache is configured
}

// normalise defaults the issuer of an email filter to the accounts' sentinel
// (an operator offboarding an account types only its email) and refuses a
// filter that does not name exactly one person or row.
func normalise(f ports.TokenFilter) (ports.TokenFilter, error) {
	if f.Email != "" && f.Issuer == "" {
		f.Issuer = domain.AccountIssuer
	}
	if err := f.Check(); err != nil {
		return f, fmt.Errorf("%w: %w", domain.ErrInvalidRequest, err)
	}
	return f, nil
}

// List returns the live tokens f selects, newest first (no hashes).
func (u *Offboard) List(ctx context.Context, f ports.TokenFilter) ([]domain.AccessToken, error) {
	f, err := normalise(f)
	if err != nil {
		return nil, err
	}
	rows, err := u.Tokens.LiveTokens(ctx, f, u.now())
	for i := range rows {
		rows[i].TokenHash = ""
	}
	return rows, err
}

// Revoke revokes every live token f selects, invalidates each in the cache
// and emits one oauth.token_revoked per token with actor. It returns the
// revoked rows (no hashes). A cache that cannot be reached is logged, not an
// error: the rows are revoked, and every instance's RevocationWatch drops them.
func (u *Offboard) Revoke(ctx context.Context, f ports.TokenFilter, actor string) ([]domain.AccessToken, error) {
	f, err := normalise(f)
	if err != nil {
		return nil, err
	}
	rows, err := u.Tokens.RevokeTokens(ctx, f, u.now())
	if err != nil {
		return nil, err
	}
	cache := u.Cache
	var cacheErr error
	for i, row := range rows {
		if cache != nil && row.TokenHash != "" {
			if cacheErr = cache.Invalidate(ctx, row.TokenHash); cacheErr != nil {
				cache = nil // an unreachable cache would cost a timeout per token
			}
		}
		rows[i].TokenHash = ""
		u.emit(ctx, domain.AuditEvent{
			Name: domain.EventTokenRevoked, TokenID: row.ID, SubjectType: row.SubjectType(),
			SubjectEmail: row.SubjectEmail, SubjectIssuer: row.SubjectIssuer, AccountID: row.AccountID,
			ClientID: row.ClientID, DeviceLabel: row.DeviceLabel, ExpiresAt: row.ExpiresAt, Actor: actor,
		})
	}
	if cacheErr != nil {
		u.log().WarnContext(ctx, "token cache invalidation failed after an owner revoke; instances drop the tokens when they next read the revocation feed",
			"revoked", len(rows), "err", cacheErr)
	}
	return rows, nil
}
