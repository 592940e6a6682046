package gormrepo_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
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

// BenchmarkRevocationFeedPoll is what every serving instance pays once a
// second (app.RevocationWatch): the feed's query over a table holding 5,000
// revocations, when none is recent and when all are.
func BenchmarkRevocationFeedPoll(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var db *gormrepo.DB
			if dialect == "sqlite" {
				db, _ = openSQLite(b, false)
			} else {
				postgresDSN(b)
				db = openPostgres(b, false)
			}
			ctx := context.Background()
			then := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
			account, _ := domain.NewUUID(rand.Reader)
			for i := range 5000 {
				id, _ := domain.NewUUID(rand.Reader)
				_, err := db.Mint(ctx, domain.AccessToken{ID: id, SubjectEmail: "bench@example.com", SubjectIssuer: domain.AccountIssuer,
					AccountID: account, ClientID: "difyctl", DeviceLabel: fmt.Sprint("device ", i), Prefix: "dfoa_",
					TokenHash: domain.HashSecret(id), CreatedAt: then, ExpiresAt: then.Add(time.Hour)})
				if err != nil {
					b.Fatal(err)
				}
			}
			if _, err := db.RevokeTokens(ctx, ports.TokenFilter{AccountID: account}, then.Add(time.Minute)); err != nil {
				b.Fatal(err)
			}
			// "quiet": nothing revoked lately; "5000 recent": a poll inside the
			// lookback window of a revoke of 5,000 tokens pages through them all.
			for _, c := range []struct {
				name  string
				since time.Time
				rows  int
			}{{"quiet", then.Add(time.Hour), 0}, {"5000 recent", then, 5000}} {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						n, key := 0, ports.Revocation{RevokedAt: c.since}
						for {
							page, err := db.RevokedAfter(ctx, key, 1000)
							if err != nil {
								b.Fatal(err)
							}
							n += len(page)
							if len(page) < 1000 {
								break
							}
							key = page[len(page)-1]
						}
						if n != c.rows {
							b.Fatalf("%d rows, want %d", n, c.rows)
						}
					}
				})
			}
		})
	}
}
