package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/devicegate/devicegate/app"

	"github.com/devicegate/devicegate/domain"
)

// accountsByID is an account directory holding fixed accounts.
type accountsByID struct {
	accounts map[string]domain.Account
	err      error
}

func (a accountsByID) Account(_ context.Context, id string) (domain.Account, error) {
	if a.err != nil {
		return domain.Account{}, a.err
	}
	acct, ok := a.accounts[id]
	if !ok {
		return domain.Account{}, domain.ErrNotFound
	}
	return acct, nil
}

func (a accountsByID) Workspaces(context.Context, string) ([]domain.Workspace, error) {
	return nil, nil
}

func (a accountsByID) ActiveAccountByEmail(context.Context, string) (bool, error) { return false, nil }

// An approval whose account was disabled (or deleted) before the CLI polled
// must not turn into a token: the poll answers access_denied and ends the flow.
func TestPollRefusesAnApprovalOfAnInactiveAccount(t *testing.T) {
	for _, tc := range []struct {
		name     string
		accounts map[string]domain.Account
	}{
		{"disabled", map[string]domain.Account{"acc-1": {ID: "acc-1", Email: "a@b.c", Active: false}}},
		{"deleted", map[string]domain.Account{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newPollRig(t)
			r.poll.Accounts = accountsByID{accounts: tc.accounts}
			out := r.approved(t)
			in := app.PollInput{DeviceCode: out.DeviceCode, ClientID: "difyctl"}
			if g, err := r.poll.Execute(context.Background(), in); !errors.Is(err, domain.ErrAccessDenied) {
				t.Fatalf("poll for an inactive account: token=%q err=%v, want access_denied", g.Token, err)
			}
			if n := len(r.tokens.rows); n != 0 {
				t.Fatalf("%d token rows minted for an inactive account", n)
			}
			r.clock.Advance(10 * time.Second)
			if _, err := r.poll.Execute(context.Background(), in); !errors.Is(err, domain.ErrExpiredToken) {
				t.Fatalf("second poll: %v, want expired_token (the flow ends)", err)
			}
		})
	}
}

// A directory outage during that check gives the approval back: a later
// poll still gets its token.
func TestPollAccountCheckOutageReleasesTheClaim(t *testing.T) {
	r := newPollRig(t)
	r.poll.Accounts = accountsByID{err: domain.Unavailable("database", errors.New("down"))}
	out := r.approved(t)
	in := app.PollInput{DeviceCode: out.DeviceCode, ClientID: "difyctl"}
	if _, err := r.poll.Execute(context.Background(), in); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("poll during outage: %v", err)
	}
	r.poll.Accounts = accountsByID{accounts: map[string]domain.Account{"acc-1": {ID: "acc-1", Email: "a@b.c", Active: true}}}
	r.clock.Advance(10 * time.Second)
	if g, err := r.poll.Execute(context.Background(), in); err != nil || g.Token == "" {
		t.Fatalf("poll after the outage: %v", err)
	}
}
