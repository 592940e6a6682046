package app

import (
	"context"
	"errors"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// AccountGuard refuses a token whose account is missing or no longer active
// (SPEC 7.1) and revokes that account's live tokens on sight (actor:
// system), so enabling the account later does not bring back a token minted
// in a race with its disabling.
type AccountGuard struct {
	Env
	Accounts ports.AccountDirectory
	Offboard *Offboard
}

// Check returns nil for an external token or a token of an active account,
// domain.ErrInvalidToken for a token of an inactive or deleted account, and a
// backend error as is. A nil guard checks nothing.
func (g *AccountGuard) Check(ctx context.Context, row domain.AccessToken) error {
	if g == nil || row.AccountID == "" {
		return nil
	}
	acct, err := g.Accounts.Account(ctx, row.AccountID)
	if err == nil && acct.Active {
		return nil
	}
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return err
	}
	if _, err := g.Offboard.Revoke(ctx, ports.TokenFilter{AccountID: row.AccountID}, domain.ActorSystem); err != nil {
		g.log().WarnContext(ctx, "revoking the tokens of an inactive account failed", "account_id", row.AccountID, "err", err)
	}
	return domain.ErrInvalidToken
}
