package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// Console is the built-in console session API (SPEC 7.1): password sign-in,
// sign-out, session lookup and the profile.
type Console struct {
	Env
	Admin    ports.AccountAdmin
	Accounts ports.AccountDirectory
	Sessions ports.ConsoleSessions
	Hasher   ports.PasswordHasher
	Limiter  ports.RateLimiter

	dummyOnce sync.Once
	dummy     string
}

// SignIn is a new console session; ID and CSRFToken go to cookies and exist nowhere else in plaintext.
type SignIn struct {
	ID        string
	CSRFToken string
	Session   domain.ConsoleSession
	Account   domain.Account
}

// dummyHash is verified against when the email is unknown, so both failures
// cost the same time and do not reveal which emails exist.
func (u *Console) dummyHash() string {
	u.dummyOnce.Do(func() { u.dummy, _ = u.Hasher.Hash("devicegate-timing-equaliser") })
	return u.dummy
}

// Login verifies email + password and issues a brand-new session id every
// time. Only failures count against the sign-in limits (SPEC 7.1): the
// attempt is counted in every sign-in bucket before the password is checked
// (so parallel guesses cannot slip past a check that does not count), and
// taken back when the password is right or the check could not be made.
func (u *Console) Login(ctx context.Context, email, password, ip string) (SignIn, error) {
	now := u.now()
	storable := storableEmail(email)
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" || password == "" {
		return SignIn{}, fmt.Errorf("%w: email and password are required", domain.ErrInvalidRequest)
	}
	counts := signInCounts(email, ip)
	if err := countAll(ctx, u.Limiter, counts, now); err != nil {
		return SignIn{}, err
	}
	acct, err := u.verify(ctx, email, password, storable)
	if !errors.Is(err, domain.ErrInvalidCredentials) {
		// Right password, or no answer (an outage): not a failed guess.
		if uerr := uncountAll(ctx, u.Limiter, counts, now); uerr != nil {
			u.log().WarnContext(ctx, "sign-in limit: taking back an attempt that was not a failure failed", "err", uerr)
		}
	}
	if err != nil {
		return SignIn{}, err
	}
	ws, err := u.Accounts.Workspaces(ctx, acct.ID)
	if err != nil {
		return SignIn{}, err
	}
	id, err := domain.NewDeviceCode(u.rand()) // 32 random bytes; the prefix is dropped below
	if err != nil {
		return SignIn{}, err
	}
	id = strings.TrimPrefix(id, domain.DeviceCodePrefix)
	csrf, err := domain.NewNonce(u.rand())
	if err != nil {
		return SignIn{}, err
	}
	s := domain.ConsoleSession{
		IDHash: domain.HashSecret(id), AccountID: acct.ID, WorkspaceID: domain.DefaultWorkspace(ws, ""),
		CSRFToken: csrf, CreatedAt: now, ExpiresAt: now.Add(domain.SessionLifetime),
	}
	if err := u.Sessions.CreateSession(ctx, s); err != nil {
		return SignIn{}, err
	}
	return SignIn{ID: id, CSRFToken: csrf, Session: s, Account: acct}, nil
}

// verify checks the password of email. Every kind of failure (impossible
// email, unknown email, wrong password, inactive account) is
// domain.ErrInvalidCredentials and costs one password verification, so
// failures do not reveal which emails exist.
func (u *Console) verify(ctx context.Context, email, password string, storable bool) (domain.Account, error) {
	if !storable {
		// No account can have this email; asking the database anyway would
		// turn a NUL byte into a Postgres error (a 500) instead of a 401.
		u.Hasher.Verify(u.dummyHash(), password)
		return domain.Account{}, domain.ErrInvalidCredentials
	}
	acct, hash, err := u.Admin.PasswordHashByEmail(ctx, email)
	if errors.Is(err, domain.ErrNotFound) {
		u.Hasher.Verify(u.dummyHash(), password)
		return domain.Account{}, domain.ErrInvalidCredentials
	}
	if err != nil {
		return domain.Account{}, err
	}
	if !u.Hasher.Verify(hash, password) || !acct.Active {
		return domain.Account{}, domain.ErrInvalidCredentials
	}
	return acct, nil
}

// Session resolves a session cookie value; anything unusable is domain.ErrNoSession.
func (u *Console) Session(ctx context.Context, cookie string) (domain.ConsoleSession, error) {
	if cookie == "" || len(cookie) > 256 {
		return domain.ConsoleSession{}, domain.ErrNoSession
	}
	s, err := u.Sessions.Session(ctx, domain.HashSecret(cookie), u.now())
	if errors.Is(err, domain.ErrNotFound) {
		return domain.ConsoleSession{}, domain.ErrNoSession
	}
	return s, err
}

// Logout ends the session named by the cookie (no error when it is already gone).
func (u *Console) Logout(ctx context.Context, cookie string) error {
	if cookie == "" {
		return nil
	}
	return u.Sessions.DeleteSession(ctx, domain.HashSecret(cookie))
}

// Profile is the signed-in account with its workspaces.
type Profile struct {
	Account            domain.Account
	Workspaces         []domain.Workspace
	DefaultWorkspaceID string
}

// Profile returns the session's account and workspaces.
func (u *Console) Profile(ctx context.Context, s domain.ConsoleSession) (Profile, error) {
	acct, err := u.Accounts.Account(ctx, s.AccountID)
	if errors.Is(err, domain.ErrNotFound) || (err == nil && !acct.Active) {
		return Profile{}, domain.ErrNoSession
	}
	if err != nil {
		return Profile{}, err
	}
	ws, err := u.Accounts.Workspaces(ctx, acct.ID)
	if err != nil {
		return Profile{}, err
	}
	return Profile{Account: acct, Workspaces: ws, DefaultWorkspaceID: domain.DefaultWorkspace(ws, s.WorkspaceID)}, nil
}

// storableEmail reports whether raw could be a stored account email: valid
// UTF-8, no control characters, at most maxEmailLength bytes once trimmed.
func storableEmail(raw string) bool {
	e := strings.TrimSpace(raw)
	return utf8.ValidString(e) && len(e) <= maxEmailLength && strings.IndexFunc(e, unicode.IsControl) < 0
}
