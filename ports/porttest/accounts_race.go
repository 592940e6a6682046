package porttest

import (
	"context"
	"testing"

	"github.com/devicegate/devicegate/ports"
)

// acctRaceJoinWorkspace: accounts created at once naming one new workspace
// all succeed; exactly one creates it (owner), the others join it (normal
// members), so everyone ends up in the same workspace.
func acctRaceJoinWorkspace(t *testing.T, s AccountStore) {
	const n = 10
	name := "Race " + tokRandHex(t, 4)
	accts := make([]ports.NewAccount, n)
	for i := range accts {
		accts[i] = acctNew(t, name)
	}
	errs := make([]error, n)
	stRace(n, func(i int) { _, errs[i] = s.CreateAccount(context.Background(), accts[i]) })
	owners, wsID := 0, ""
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent CreateAccount %d joining %q: %v", i, name, err)
		}
		ws := acctWorkspaces(t, s, accts[i].ID)
		if len(ws) != 1 || ws[0].Name != name {
			t.Fatalf("account %d: Workspaces = %+v, want one named %q", i, ws, name)
		}
		if wsID == "" {
			wsID = ws[0].ID
		}
		if ws[0].ID != wsID {
			t.Fatalf("account %d is in workspace %s, another in %s: want one workspace", i, ws[0].ID, wsID)
		}
		if ws[0].Role == acctRoleOwner {
			owners++
		}
	}
	if owners != 1 {
		t.Fatalf("%d owners of the raced workspace, want exactly 1", owners)
	}
}
