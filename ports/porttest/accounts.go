package porttest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// Workspace roles the built-in account store assigns (the reference's names):
// the account that creates a workspace owns it; later accounts join as normal members.
const (
	acctRoleOwner  = "owner"
	acctRoleNormal = "normal"
)

// AccountStore is what the built-in account backend provides. It is an alias,
// so a factory may also be declared with the interface literal.
type AccountStore = interface {
	ports.AccountDirectory
	ports.AccountAdmin
}

// TestAccounts checks the built-in account directory and admin: creating an
// account creates its workspace (as owner) or joins an existing one (as a
// normal member, also when accounts race to create it), emails are unique and
// matched case-insensitively, and lookups of unknown accounts are
// domain.ErrNotFound. Stores may share one
// database: every subtest uses fresh emails and workspace names.
func TestAccounts(t *testing.T, newStore func(t *testing.T) AccountStore) {
	t.Helper()
	cases := []struct {
		name string
		run  func(t *testing.T, s AccountStore)
	}{
		{"CreateAndRead", acctCreateAndRead},
		{"JoinExistingWorkspace", acctJoinWorkspace},
		{"EmailConflictIgnoresCase", acctEmailConflict},
		{"NotFound", acctNotFound},
		{"RaceJoinWorkspace", acctRaceJoinWorkspace},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, newStore(t)) })
	}
}

// acctNow is the creation time of the suite's accounts (whole microseconds).
var acctNow = time.Date(2030, 5, 6, 7, 8, 9, 654321000, time.UTC)

func acctNew(t testing.TB, workspace string) ports.NewAccount {
	t.Helper()
	tag := tokRandHex(t, 6)
	return ports.NewAccount{
		ID: tokUUID(t), Email: "User." + tag + "@Example.COM", Name: "User " + tag,
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$" + tag + "$" + tag,
		Workspace:    workspace, WorkspaceID: tokUUID(t), Now: acctNow,
	}
}

func acctCreate(t testing.TB, s AccountStore, n ports.NewAccount) domain.Account {
	t.Helper()
	a, err := s.CreateAccount(context.Background(), n)
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	want := domain.Account{ID: n.ID, Email: strings.ToLower(n.Email), Name: n.Name, Active: true}
	if a != want {
		t.Fatalf("CreateAccount = %+v, want %+v (email stored lower-cased)", a, want)
	}
	return a
}

func acctWorkspaces(t testing.TB, s AccountStore, id string) []domain.Workspace {
	t.Helper()
	ws, err := s.Workspaces(context.Background(), id)
	if err != nil {
		t.Fatalf("Workspaces: %v", err)
	}
	return ws
}

func acctCreateAndRead(t *testing.T, s AccountStore) {
	ctx := context.Background()
	n := acctNew(t, "Team "+tokRandHex(t, 4))
	created := acctCreate(t, s, n)

	got, err := s.Account(ctx, n.ID)
	if err != nil || got != created {
		t.Fatalf("Account = %+v, %v; want %+v", got, err, created)
	}
	ws := acctWorkspaces(t, s, n.ID)
	want := domain.Workspace{ID: n.WorkspaceID, Name: n.Workspace, Role: acctRoleOwner, Current: true}
	if len(ws) != 1 || ws[0] != want {
		t.Fatalf("Workspaces = %+v, want [%+v]", ws, want)
	}

	for _, email := range []string{n.Email, strings.ToUpper(n.Email), strings.ToLower(n.Email)} {
		ok, err := s.ActiveAccountByEmail(ctx, email)
		if err != nil || !ok {
			t.Fatalf("ActiveAccountByEmail(%q) = %v, %v; want true", email, ok, err)
		}
		a, hash, err := s.PasswordHashByEmail(ctx, email)
		if err != nil || a != created || hash != n.PasswordHash {
			t.Fatalf("PasswordHashByEmail(%q) = %+v, %q, %v; want the account and its hash", email, a, hash, err)
		}
	}
}

func acctJoinWorkspace(t *testing.T, s AccountStore) {
	name := "Shared " + tokRandHex(t, 4)
	owner := acctNew(t, name)
	acctCreate(t, s, owner)
	member := acctNew(t, name) // its WorkspaceID is unused: the workspace exists
	acctCreate(t, s, member)

	want := domain.Workspace{ID: owner.WorkspaceID, Name: name, Role: acctRoleNormal, Current: true}
	if ws := acctWorkspaces(t, s, member.ID); len(ws) != 1 || ws[0] != want {
		t.Fatalf("member's Workspaces = %+v, want [%+v]", ws, want)
	}
	want.Role = acctRoleOwner
	if ws := acctWorkspaces(t, s, owner.ID); len(ws) != 1 || ws[0] != want {
		t.Fatalf("owner's Workspaces = %+v, want [%+v] (unchanged by the join)", ws, want)
	}
}

func acctEmailConflict(t *testing.T, s AccountStore) {
	ctx := context.Background()
	first := acctNew(t, "Team "+tokRandHex(t, 4))
	acctCreate(t, s, first)

	dup := acctNew(t, "Team "+tokRandHex(t, 4))
	dup.Email = strings.ToUpper(first.Email)
	_, err := s.CreateAccount(ctx, dup)
	tokWantErr(t, "CreateAccount with a taken email in another case", err, domain.ErrConflict)
	// Nothing of the refused account was written, not even its new workspace.
	_, err = s.Account(ctx, dup.ID)
	tokWantErr(t, "Account of the refused id", err, domain.ErrNotFound)
	if ws := acctWorkspaces(t, s, dup.ID); len(ws) != 0 {
		t.Fatalf("refused account has workspaces %+v", ws)
	}
	again := acctNew(t, dup.Workspace)
	acctCreate(t, s, again)
	if ws := acctWorkspaces(t, s, again.ID); len(ws) != 1 || ws[0].Role != acctRoleOwner || ws[0].ID != again.WorkspaceID {
		t.Fatalf("workspace named by a refused account was left behind: %+v", ws)
	}
}

func acctNotFound(t *testing.T, s AccountStore) {
	ctx := context.Background()
	for _, id := range []string{tokUUID(t), "not-a-uuid"} {
		_, err := s.Account(ctx, id)
		tokWantErr(t, "Account("+id+")", err, domain.ErrNotFound)
		if ws := acctWorkspaces(t, s, id); len(ws) != 0 {
			t.Fatalf("Workspaces(%s) = %+v, want none", id, ws)
		}
	}
	email := "nobody-" + tokRandHex(t, 6) + "@example.com"
	if ok, err := s.ActiveAccountByEmail(ctx, email); err != nil || ok {
		t.Fatalf("ActiveAccountByEmail(unknown) = %v, %v; want false, nil", ok, err)
	}
	_, _, err := s.PasswordHashByEmail(ctx, email)
	tokWantErr(t, "PasswordHashByEmail(unknown)", err, domain.ErrNotFound)
}

// TestConsoleSessions checks a ports.ConsoleSessions: sessions round-trip,
// expire at ExpiresAt (domain.ErrNotFound from then on) and delete
// idempotently. Stores may share one database.
func TestConsoleSessions(t *testing.T, newStore func(t *testing.T) ports.ConsoleSessions) {
	t.Helper()
	t.Run("CreateGetDelete", func(t *testing.T) {
		s := newStore(t)
		ctx := context.Background()
		sess := domain.ConsoleSession{
			IDHash: tokHash(t), AccountID: tokUUID(t), WorkspaceID: tokUUID(t), CSRFToken: tokRandHex(t, 16),
			CreatedAt: acctNow, ExpiresAt: acctNow.Add(domain.SessionLifetime),
		}
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		got, err := s.Session(ctx, sess.IDHash, acctNow.Add(time.Hour))
		if err != nil {
			t.Fatalf("Session: %v", err)
		}
		acctAssertSession(t, sess, got)
		_, err = s.Session(ctx, tokHash(t), acctNow)
		tokWantErr(t, "Session(unknown)", err, domain.ErrNotFound)

		if err := s.DeleteSession(ctx, sess.IDHash); err != nil {
			t.Fatalf("DeleteSession: %v", err)
		}
		_, err = s.Session(ctx, sess.IDHash, acctNow)
		tokWantErr(t, "Session after delete", err, domain.ErrNotFound)
		if err := s.DeleteSession(ctx, sess.IDHash); err != nil {
			t.Fatalf("second DeleteSession: %v, want nil", err)
		}
	})
	t.Run("Expiry", func(t *testing.T) {
		s := newStore(t)
		ctx := context.Background()
		sess := domain.ConsoleSession{
			IDHash: tokHash(t), AccountID: tokUUID(t), CSRFToken: tokRandHex(t, 16),
			CreatedAt: acctNow, ExpiresAt: acctNow.Add(time.Hour),
		}
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		got, err := s.Session(ctx, sess.IDHash, sess.ExpiresAt.Add(-time.Microsecond))
		if err != nil {
			t.Fatalf("Session just before expiry: %v", err)
		}
		acctAssertSession(t, sess, got) // an empty WorkspaceID round-trips as empty
		_, err = s.Session(ctx, sess.IDHash, sess.ExpiresAt)
		tokWantErr(t, "Session at ExpiresAt", err, domain.ErrNotFound)
	})
}

func acctAssertSession(t testing.TB, want, got domain.ConsoleSession) {
	t.Helper()
	if got.IDHash != want.IDHash || got.AccountID != want.AccountID || got.WorkspaceID != want.WorkspaceID ||
		got.CSRFToken != want.CSRFToken || !got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("Session = %+v, want %+v", got, want)
	}
}
