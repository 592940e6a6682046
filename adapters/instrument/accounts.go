package instrument

import (
	"context"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// directory observes a ports.AccountDirectory.
type directory struct {
	next                             ports.AccountDirectory
	account, workspaces, emailActive op
}

// Directory returns a with every call observed as backend's.
func Directory(a ports.AccountDirectory, backend string, s Set) ports.AccountDirectory {
	return &directory{next: a, account: s.op(backend, "account_get"), workspaces: s.op(backend, "account_workspaces"),
		emailActive: s.op(backend, "account_by_email")}
}

func (d *directory) Account(ctx context.Context, id string) (domain.Account, error) {
	ctx, began := d.account.begin(ctx)
	r, err := d.next.Account(ctx, id)
	d.account.end(ctx, began, err)
	return r, err
}

func (d *directory) Workspaces(ctx context.Context, accountID string) ([]domain.Workspace, error) {
	ctx, began := d.workspaces.begin(ctx)
	r, err := d.next.Workspaces(ctx, accountID)
	d.workspaces.end(ctx, began, err)
	return r, err
}

func (d *directory) ActiveAccountByEmail(ctx context.Context, email string) (bool, error) {
	ctx, began := d.emailActive.begin(ctx)
	r, err := d.next.ActiveAccountByEmail(ctx, email)
	d.emailActive.end(ctx, began, err)
	return r, err
}

// sessions observes a ports.ConsoleSessions.
type sessions struct {
	next                ports.ConsoleSessions
	create, get, delete op
}

// Sessions returns c with every call observed as backend's.
func Sessions(c ports.ConsoleSessions, backend string, s Set) ports.ConsoleSessions {
	return &sessions{next: c, create: s.op(backend, "session_create"), get: s.op(backend, "session_get"),
		delete: s.op(backend, "session_delete")}
}

func (d *sessions) CreateSession(ctx context.Context, cs domain.ConsoleSession) error {
	ctx, began := d.create.begin(ctx)
	err := d.next.CreateSession(ctx, cs)
	d.create.end(ctx, began, err)
	return err
}

func (d *sessions) Session(ctx context.Context, idHash string, now time.Time) (domain.ConsoleSession, error) {
	ctx, began := d.get.begin(ctx)
	r, err := d.next.Session(ctx, idHash, now)
	d.get.end(ctx, began, err)
	return r, err
}

func (d *sessions) DeleteSession(ctx context.Context, idHash string) error {
	ctx, began := d.delete.begin(ctx)
	err := d.next.DeleteSession(ctx, idHash)
	d.delete.end(ctx, began, err)
	return err
}

// gateway observes a ports.SSOGateway.
type gateway struct {
	next     ports.SSOGateway
	initiate op
}

// Gateway returns g with every call observed as backend's.
func Gateway(g ports.SSOGateway, backend string, s Set) ports.SSOGateway {
	return &gateway{next: g, initiate: s.op(backend, "sso_initiate")}
}

func (d *gateway) Initiate(ctx context.Context, in domain.SSOInitiation) (string, error) {
	ctx, began := d.initiate.begin(ctx)
	r, err := d.next.Initiate(ctx, in)
	d.initiate.end(ctx, began, err)
	return r, err
}
