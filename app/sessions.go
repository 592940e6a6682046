package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// Sessions lists and revokes a subject's signed-in devices (SPEC 3.5).
type Sessions struct {
	Env
	Tokens interface {
		ports.TokenRepository
		ports.TokenSessions
	}
	Cache ports.TokenCache // optional
	Kinds *domain.KindRegistry
}

// SessionPage is one page of live rows; Current marks the presenting token.
type SessionPage struct {
	Page, Limit, Total int
	HasMore            bool
	Rows               []domain.AccessToken
	CurrentID          string
}

// MaxSessionPageLimit bounds the page size.
const MaxSessionPageLimit = 200

// List returns the caller's live rows, newest first.
func (u *Sessions) List(ctx context.Context, p domain.Principal, page, limit int) (SessionPage, error) {
	if page < 1 || limit < 1 || limit > MaxSessionPageLimit {
		return SessionPage{}, fmt.Errorf("%w: page must be >= 1 and limit 1..%d", domain.ErrInvalidRequest, MaxSessionPageLimit)
	}
	rows, total, err := u.Tokens.ListLive(ctx, p.Owner(), u.now(), page, limit)
	if err != nil {
		return SessionPage{}, err
	}
	return SessionPage{Page: page, Limit: limit, Total: total, HasMore: page*limit < total, Rows: rows, CurrentID: p.TokenID}, nil
}

// RevokeByID revokes one of the caller's rows; a row the caller does not own is domain.ErrNotFound.
func (u *Sessions) RevokeByID(ctx context.Context, p domain.Principal, id string) error {
	row, err := u.Tokens.ByID(ctx, id)
	if err != nil {
		return err
	}
	if !p.Owner().Owns(row) {
		return domain.ErrNotFound
	}
	return u.revoke(ctx, row, "")
}

// RevokeSelf revokes the presenting token.
func (u *Sessions) RevokeSelf(ctx context.Context, p domain.Principal) error {
	row, err := u.Tokens.ByID(ctx, p.TokenID)
	if err != nil {
		return err
	}
	return u.revoke(ctx, row, p.TokenHash)
}

// RevokeToken is RFC 7009: revoke the token if it is valid; unknown tokens are not an error.
func (u *Sessions) RevokeToken(ctx context.Context, token string) error {
	if _, ok := u.Kinds.KindOf(token); !ok || len(token) > 128 {
		return nil
	}
	hash := domain.HashSecret(token)
	row, err := u.Tokens.ByHash(ctx, hash)
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return u.revoke(ctx, row, hash)
}

// revoke is the compare-and-set. knownHash is the presented token's hash
// ("" for revoke-by-id): the row must still hold it, so a re-login that
// rotated the row since it was looked up keeps its new token. A lost race
// (already revoked, or already replaced) is success.
func (u *Sessions) revoke(ctx context.Context, row domain.AccessToken, knownHash string) error {
	hash, err := u.Tokens.Revoke(ctx, row.ID, knownHash, u.now())
	if errors.Is(err, domain.ErrNotFound) {
		hash, err = "", nil
	}
	if err != nil {
		return err
	}
	for _, h := range []string{hash, knownHash} {
		if h != "" && u.Cache != nil {
			if err := u.Cache.Invalidate(ctx, h); err != nil {
				u.log().WarnContext(ctx, "token cache invalidation failed after revoke", "token_id", row.ID, "err", err)
			}
		}
	}
	if hash != "" {
		u.emit(ctx, domain.AuditEvent{
			Name: domain.EventTokenRevoked, TokenID: row.ID, SubjectType: row.SubjectType(),
			SubjectEmail: row.SubjectEmail, SubjectIssuer: row.SubjectIssuer, AccountID: row.AccountID,
			ClientID: row.ClientID, DeviceLabel: row.DeviceLabel, ExpiresAt: row.ExpiresAt,
		})
	}
	return nil
}
