package ports

import (
	"context"
	"time"

	"github.com/devicegate/devicegate/domain"
)

// AccountDirectory answers who an account is (SPEC 7.1).
type AccountDirectory interface {
	// Account returns the account with id. Returns domain.ErrNotFound if none.
	Account(ctx context.Context, id string) (domain.Account, error)
	// Workspaces returns the account's memberships (empty, not an error, when none).
	Workspaces(ctx context.Context, accountID string) ([]domain.Workspace, error)
	// ActiveAccountByEmail reports whether email (case-insensitive) belongs to an active account.
	ActiveAccountByEmail(ctx context.Context, email string) (bool, error)
}

// NewAccount is the input of AccountAdmin.CreateAccount.
type NewAccount struct {
	ID           string
	Email        string
	Name         string
	PasswordHash string
	// Workspace names the workspace to join; created (with the account as owner) when missing.
	Workspace   string
	WorkspaceID string // id for the workspace should it be created
	Now         time.Time
}

// AccountAdmin creates built-in accounts and finds them for password sign-in.
type AccountAdmin interface {
	// CreateAccount stores the account and its membership of the named
	// workspace (created, account as owner, when missing). Returns
	// domain.ErrConflict if the email is taken (case-insensitive).
	CreateAccount(ctx context.Context, a NewAccount) (domain.Account, error)
	// PasswordHashByEmail returns the account and its stored password hash.
	// Returns domain.ErrNotFound if no account has that email.
	PasswordHashByEmail(ctx context.Context, email string) (domain.Account, string, error)
}

// ConsoleSessions stores console sign-in sessions, addressed by the SHA-256 of the session id.
type ConsoleSessions interface {
	// CreateSession stores s.
	CreateSession(ctx context.Context, s domain.ConsoleSession) error
	// Session returns the session with idHash. Returns domain.ErrNotFound if
	// none or expired at now.
	Session(ctx context.Context, idHash string, now time.Time) (domain.ConsoleSession, error)
	// DeleteSession removes it; deleting a missing session is not an error.
	DeleteSession(ctx context.Context, idHash string) error
}

// PasswordHasher hashes and verifies passwords (argon2id or bcrypt).
type PasswordHasher interface {
	// Hash returns an encoded hash of password.
	Hash(password string) (string, error)
	// Verify reports whether password matches encoded, in constant time.
	Verify(encoded, password string) bool
}

// SessionPruner deletes expired console sessions (the retention job calls it).
type SessionPruner interface {
	// PruneSessions deletes sessions expired at now and returns how many.
	PruneSessions(ctx context.Context, now time.Time) (int64, error)
}
