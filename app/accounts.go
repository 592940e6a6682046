package app

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// CreateAccount is `devicegate accounts create`.
type CreateAccount struct {
	Env
	Admin  ports.AccountAdmin
	Hasher ports.PasswordHasher
}

// CreateAccountInput is the request of CreateAccount.
type CreateAccountInput struct {
	Email, Name, Password, Workspace string
}

// MinPasswordLength is the shortest accepted password.
const MinPasswordLength = 8

// maxEmailLength is the longest account email (the column is varchar(255)).
const maxEmailLength = 255

// Execute validates the input, hashes the password and stores the account.
func (u *CreateAccount) Execute(ctx context.Context, in CreateAccountInput) (domain.Account, error) {
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > maxEmailLength {
		return domain.Account{}, fmt.Errorf("%w: %q is not a valid email address", domain.ErrInvalidRequest, in.Email)
	}
	name, ws := strings.TrimSpace(in.Name), strings.TrimSpace(in.Workspace)
	if name == "" || ws == "" || len(name) > 255 || len(ws) > 255 {
		return domain.Account{}, fmt.Errorf("%w: name and workspace are required (at most 255 characters)", domain.ErrInvalidRequest)
	}
	if len(in.Password) < MinPasswordLength {
		return domain.Account{}, fmt.Errorf("%w: password must be at least %d characters", domain.ErrInvalidRequest, MinPasswordLength)
	}
	hash, err := u.Hasher.Hash(in.Password)
	if err != nil {
		return domain.Account{}, err
	}
	id, err := domain.NewUUID(u.rand())
	if err != nil {
		return domain.Account{}, err
	}
	wsID, err := domain.NewUUID(u.rand())
	if err != nil {
		return domain.Account{}, err
	}
	a, err := u.Admin.CreateAccount(ctx, ports.NewAccount{
		ID: id, Email: email, Name: name, PasswordHash: hash, Workspace: ws, WorkspaceID: wsID, Now: u.now(),
	})
	if errors.Is(err, domain.ErrConflict) {
		return domain.Account{}, fmt.Errorf("%w: an account with email %s already exists", err, email)
	}
	return a, err
}
