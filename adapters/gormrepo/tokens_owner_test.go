package gormrepo_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/ports/porttest"
)

// TestRevocationFeedUsesTheRevokedAtIndex: every serving instance runs the
// feed's query about once a second, so it must be an index range scan on
// revoked_at (the pruner's partial index), never a scan of the table.
func TestRevocationFeedUsesTheRevokedAtIndex(t *testing.T) {
	db, _ := openSQLite(t, false)
	plan, err := gormrepo.PlanForTest(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "ix_oauth_revoked_at") || strings.Contains(plan, "SCAN oauth_access_tokens") {
		t.Fatalf("feed plan does not range over ix_oauth_revoked_at:\n%s", plan)
	}
}

// TestPostgresOwnedTokensUnderSerializableDefault: as
// TestPostgresStricterDefaultIsolation, the owner revoke's locking subquery
// is written for READ COMMITTED; racing revokes and rotations must not fail
// with serialization errors on a server whose default is stricter.
func TestPostgresOwnedTokensUnderSerializableDefault(t *testing.T) {
	db := openPostgresURL(t, postgresSchemaURL(t, url.Values{"default_transaction_isolation": {"serializable"}}), false)
	porttest.TestOwnedTokens(t, func(t *testing.T) porttest.OwnedTokenStore { return db })
}
