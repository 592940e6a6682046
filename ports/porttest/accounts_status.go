package porttest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// AccountStatusStore is the built-in account backend with status changes
// and console sessions.
type AccountStatusStore = interface {
	AccountStore
	ports.AccountStatus
	ports.ConsoleSessions
}

// TestAccountStatus checks ports.AccountStatus: disabling and enabling an
// account (by email, any case; idempotent) is what the directory then
// reports, an unknown email is domain.ErrNotFound, deleting an account
// removes it and its memberships (and frees its email), and deleting an
// account's console sessions deletes those and no one else's. Stores may share one database.
func TestAccountStatus(t *testing.T, newStore func(t *testing.T) AccountStatusStore) {
	t.Helper()
	t.Run("DisableEnable", func(t *testing.T) { statDisableEnable(t, newStore(t)) })
	t.Run("DeleteAccountSessions", func(t *testing.T) { statDeleteSessions(t, newStore(t)) })
	t.Run("DeleteAccount", func(t *testing.T) { statDeleteAccount(t, newStore(t)) })
}

func statActive(t testing.TB, s AccountStatusStore, a domain.Account, want bool) {
	t.Helper()
	ctx := context.Background()
	got, err := s.Account(ctx, a.ID)
	if err != nil {
		t.Fatalf("Account: %v", err)
	}
	byEmail, err := s.ActiveAccountByEmail(ctx, a.Email)
	if err != nil {
		t.Fatalf("ActiveAccountByEmail: %v", err)
	}
	if got.Active != want || byEmail != want {
		t.Fatalf("Account.Active = %v, ActiveAccountByEmail = %v, want %v", got.Active, byEmail, want)
	}
}

func statDisableEnable(t *testing.T, s AccountStatusStore) {
	ctx := context.Background()
	a := acctCreate(t, s, acctNew(t, "Team "+tokRandHex(t, 4)))
	bystander := acctCreate(t, s, acctNew(t, "Team "+tokRandHex(t, 4)))
	for range 2 { // idempotent
		got, err := s.SetAccountActive(ctx, strings.ToUpper(a.Email), false)
		if err != nil {
			t.Fatalf("disable: %v", err)
		}
		if want := (domain.Account{ID: a.ID, Email: a.Email, Name: a.Name}); got != want {
			t.Fatalf("disable returned %+v, want %+v", got, want)
		}
		statActive(t, s, a, false)
	}
	statActive(t, s, bystander, true)
	got, err := s.SetAccountActive(ctx, a.Email, true)
	if err != nil || !got.Active || got.ID != a.ID {
		t.Fatalf("enable: %+v, %v", got, err)
	}
	statActive(t, s, a, true)
	_, err = s.SetAccountActive(ctx, "nobody-"+tokRandHex(t, 4)+"@example.com", false)
	tokWantErr(t, "SetAccountActive(unknown email)", err, domain.ErrNotFound)
}

func statDeleteSessions(t *testing.T, s AccountStatusStore) {
	ctx := context.Background()
	owner, other := tokUUID(t), tokUUID(t)
	var mine []string
	for _, acct := range []string{owner, owner, other} {
		sess := domain.ConsoleSession{IDHash: tokHash(t), AccountID: acct, CSRFToken: tokRandHex(t, 16),
			CreatedAt: acctNow, ExpiresAt: acctNow.Add(domain.SessionLifetime)}
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		if acct == owner {
			mine = append(mine, sess.IDHash)
		} else {
			defer func() {
				if _, err := s.Session(ctx, sess.IDHash, acctNow.Add(time.Minute)); err != nil {
					t.Errorf("another account's session is gone: %v", err)
				}
			}()
		}
	}
	if n, err := s.DeleteAccountSessions(ctx, strings.ToUpper(owner)); err != nil || n != 2 {
		t.Fatalf("DeleteAccountSessions = %d, %v; want 2", n, err)
	}
	for _, h := range mine {
		_, err := s.Session(ctx, h, acctNow.Add(time.Minute))
		tokWantErr(t, "Session of a deleted account session", err, domain.ErrNotFound)
	}
	for _, id := range []string{owner, "not-a-uuid"} {
		if n, err := s.DeleteAccountSessions(ctx, id); err != nil || n != 0 {
			t.Fatalf("DeleteAccountSessions(%q) again = %d, %v; want 0, nil", id, n, err)
		}
	}
}

func statDeleteAccount(t *testing.T, s AccountStatusStore) {
	ctx := context.Background()
	team := "Team " + tokRandHex(t, 4)
	n := acctNew(t, team)
	a := acctCreate(t, s, n)
	member := acctCreate(t, s, acctNew(t, team))
	got, err := s.DeleteAccount(ctx, strings.ToUpper(a.Email))
	if err != nil || got != a {
		t.Fatalf("DeleteAccount = %+v, %v; want %+v", got, err, a)
	}
	_, err = s.Account(ctx, a.ID)
	tokWantErr(t, "Account after delete", err, domain.ErrNotFound)
	if ws := acctWorkspaces(t, s, a.ID); len(ws) != 0 {
		t.Fatalf("memberships after delete: %+v", ws)
	}
	if active, err := s.ActiveAccountByEmail(ctx, a.Email); err != nil || active {
		t.Fatalf("ActiveAccountByEmail after delete = %v, %v", active, err)
	}
	if ws := acctWorkspaces(t, s, member.ID); len(ws) != 1 || ws[0].Name != team {
		t.Fatalf("the other member lost the workspace: %+v", ws)
	}
	_, err = s.DeleteAccount(ctx, a.Email)
	tokWantErr(t, "second DeleteAccount", err, domain.ErrNotFound)
	again := n
	again.ID, again.WorkspaceID = tokUUID(t), tokUUID(t)
	acctCreate(t, s, again) // the email is free again
}
