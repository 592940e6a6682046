package ports

import (
	"context"
	"errors"
	"time"

	"github.com/devicegate/devicegate/domain"
)

// TokenFilter selects the token rows of one person for an operator (SPEC
// 7.1, offboarding): exactly one of ID, AccountID or Email is set; Issuer goes
// with Email only.
type TokenFilter struct {
	// ID selects one row.
	ID string
	// AccountID selects every row of an account.
	AccountID string
	// Email selects the rows of a subject email (compared case-insensitively)
	// minted under Issuer (domain.AccountIssuer for accounts' tokens, the
	// identity provider's issuer for external-SSO tokens).
	Email  string
	Issuer string
}

// ErrBadTokenFilter reports a TokenFilter that does not name exactly one
// selector (an empty filter must never mean "every token").
var ErrBadTokenFilter = errors.New("token filter must name exactly one of id, account id or email (issuer only with email)")

// Check returns ErrBadTokenFilter unless f names exactly one selector.
func (f TokenFilter) Check() error {
	n := 0
	for _, v := range []string{f.ID, f.AccountID, f.Email} {
		if v != "" {
			n++
		}
	}
	if n != 1 || (f.Issuer != "") != (f.Email != "") {
		return ErrBadTokenFilter
	}
	return nil
}

// OwnedTokens lists and revokes a person's live token rows at once, for
// operators and for disabling an account. A live row is unrevoked and not
// expired at now. Backend outages are returned as domain.ErrUnavailable.
type OwnedTokens interface {
	// LiveTokens returns the live rows matching f, newest first. It returns
	// ErrBadTokenFilter (and reads nothing) when f.Check fails; no match is an
	// empty list, not an error.
	LiveTokens(ctx context.Context, f TokenFilter, now time.Time) ([]domain.AccessToken, error)
	// RevokeTokens sets revoked_at = now and nulls token_hash on every live row
	// matching f, as one compare-and-set per row (as TokenRepository.Revoke),
	// and returns the rows it revoked with TokenHash holding the hash it
	// cleared. A row revoked by someone else first is not returned, so of two
	// concurrent calls each row is returned once. It returns ErrBadTokenFilter
	// (and writes nothing) when f.Check fails.
	RevokeTokens(ctx context.Context, f TokenFilter, now time.Time) ([]domain.AccessToken, error)
}

// Revocation is one revoked row as the revocation feed reports it.
type Revocation struct {
	ID        string
	RevokedAt time.Time
}

// RevocationFeed lets a serving instance learn of the revocations other
// processes made (a CLI next to it, another instance), so it can stop
// serving their tokens from a cache only it can reach.
type RevocationFeed interface {
	// RevokedAfter returns up to limit rows revoked (or hard-expired) with
	// (revoked_at, id) strictly after (after.RevokedAt, after.ID), in that
	// order; an empty after.ID with a time means "revoked after that time or
	// at it". It must be cheap when nothing was revoked (an index on revoked_at).
	RevokedAfter(ctx context.Context, after Revocation, limit int) ([]Revocation, error)
}
