package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// AccountStatus is `devicegate accounts disable|enable|delete` (SPEC 7.1).
type AccountStatus struct {
	Env
	Accounts ports.AccountStatus
	Offboard *Offboard
}

// Ended is what disabling or deleting an account ended.
type Ended struct {
	Account  domain.Account
	Revoked  []domain.AccessToken
	Sessions int64
}

// Disable marks the account disabled, ends its console sessions and revokes
// its live tokens (actor: operator).
//
// The status is committed before the tokens are revoked, and the bearer
// check reads a token's account only after reading its row: a token minted
// in a race with this call is either live when the revoke runs (and revoked),
// or committed after it, in which case every validation reads the account as
// disabled, refuses the token and revokes it (AccountGuard).
func (u *AccountStatus) Disable(ctx context.Context, email string) (Ended, error) {
	acct, err := u.set(ctx, email, false)
	if err != nil {
		return Ended{}, err
	}
	return u.end(ctx, acct, "disabled")
}

// Delete deletes the account, then ends its sessions and revokes its tokens
// as Disable does (the same ordering argument holds: a missing account is
// refused like a disabled one). Its token rows stay, revoked, until pruned.
func (u *AccountStatus) Delete(ctx context.Context, email string) (Ended, error) {
	acct, err := u.Accounts.DeleteAccount(ctx, strings.ToLower(strings.TrimSpace(email)))
	if err != nil {
		return Ended{}, notFound(err, email)
	}
	return u.end(ctx, acct, "deleted")
}

// end revokes the tokens and ends the sessions of an account that was just
// disabled or deleted. Should either fail, the error says how to finish.
func (u *AccountStatus) end(ctx context.Context, acct domain.Account, what string) (Ended, error) {
	rows, err := u.Offboard.Revoke(ctx, ports.TokenFilter{AccountID: acct.ID}, domain.ActorOperator)
	if err != nil {
		return Ended{Account: acct}, fmt.Errorf("account %s, but revoking its tokens failed (finish with `devicegate tokens revoke --account %s`): %w", what, acct.ID, err)
	}
	n, err := u.Accounts.DeleteAccountSessions(ctx, acct.ID)
	if err != nil {
		// The sessions of a disabled or deleted account can no longer
		// approve or read a profile (both check the account), so this only
		// leaves rows to expire.
		return Ended{Account: acct, Revoked: rows}, fmt.Errorf("account %s and its tokens revoked, but ending its console sessions failed: %w", what, err)
	}
	return Ended{Account: acct, Revoked: rows, Sessions: n}, nil
}

// Enable marks the account active again. Tokens revoked while it was
// disabled stay revoked: the person signs their devices in again.
func (u *AccountStatus) Enable(ctx context.Context, email string) (domain.Account, error) {
	return u.set(ctx, email, true)
}

func (u *AccountStatus) set(ctx context.Context, email string, active bool) (domain.Account, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return domain.Account{}, fmt.Errorf("%w: an email is required", domain.ErrInvalidRequest)
	}
	acct, err := u.Accounts.SetAccountActive(ctx, email, active)
	return acct, notFound(err, email)
}

// notFound names the email in a not-found error.
func notFound(err error, email string) error {
	if errors.Is(err, domain.ErrNotFound) {
		return fmt.Errorf("%w: no account has email %s", err, strings.ToLower(strings.TrimSpace(email)))
	}
	return err
}
