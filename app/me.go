package app

import (
	"context"
	"errors"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// Me is GET /me: who the presenting token speaks for (SPEC 3.5).
type Me struct {
	Env
	Accounts ports.AccountDirectory
	Limiter  ports.RateLimiter
}

// MeOutput is the answer of Me; Account is nil for external subjects.
type MeOutput struct {
	SubjectType        domain.SubjectType
	SubjectEmail       string
	SubjectIssuer      string
	Account            *domain.Account
	Workspaces         []domain.Workspace
	DefaultWorkspaceID string
}

// Execute answers /me for p, rate limited per subject.
func (u *Me) Execute(ctx context.Context, p domain.Principal) (MeOutput, error) {
	key := p.AccountID
	if key == "" {
		key = domain.HashSecret(p.SubjectIssuer + "\x00" + p.SubjectEmail)
	}
	if err := limit(ctx, u.Limiter, domain.BucketMe, key, u.now()); err != nil {
		return MeOutput{}, err
	}
	if p.Kind.Subject != domain.SubjectAccount {
		return MeOutput{SubjectType: domain.SubjectExternalSSO, SubjectEmail: p.SubjectEmail, SubjectIssuer: p.SubjectIssuer}, nil
	}
	acct, err := u.Accounts.Account(ctx, p.AccountID)
	if errors.Is(err, domain.ErrNotFound) || (err == nil && !acct.Active) {
		return MeOutput{}, domain.ErrInvalidToken
	}
	if err != nil {
		return MeOutput{}, err
	}
	ws, err := u.Accounts.Workspaces(ctx, acct.ID)
	if err != nil {
		return MeOutput{}, err
	}
	return MeOutput{
		SubjectType: domain.SubjectAccount, SubjectEmail: acct.Email, SubjectIssuer: p.SubjectIssuer,
		Account: &acct, Workspaces: ws, DefaultWorkspaceID: domain.DefaultWorkspace(ws, ""),
	}, nil
}
