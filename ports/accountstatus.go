package ports

import (
	"context"

	"github.com/devicegate/devicegate/domain"
)

// AccountStatus disables, enables and deletes built-in accounts and ends
// their console sessions (SPEC 7.1: `devicegate accounts disable|enable|delete`).
type AccountStatus interface {
	// SetAccountActive marks the account with email (case-insensitive) active
	// or disabled and returns it as it now is; setting the status it already
	// has is not an error. Returns domain.ErrNotFound if no account has that email.
	SetAccountActive(ctx context.Context, email string, active bool) (domain.Account, error)
	// DeleteAccount deletes the account with email (case-insensitive) and its
	// workspace memberships, and returns it as it was. Its workspaces and its
	// token rows stay (the rows for the audit trail until pruned). Returns
	// domain.ErrNotFound if no account has that email.
	DeleteAccount(ctx context.Context, email string) (domain.Account, error)
	// DeleteAccountSessions deletes every console session of the account and
	// returns how many it deleted (none is not an error).
	DeleteAccountSessions(ctx context.Context, accountID string) (int64, error)
}
