package gormrepo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// TestSQLiteReadsDoNotWaitForAWriteTransaction: with a write transaction
// open on SQLite (BEGIN IMMEDIATE, one uncommitted statement revoking a
// token), every pure read still answers, and answers from the last commit:
// the token is still live, the revocation not yet in the feed. The reads run
// inside the transaction's hold, so they finish before it commits; on one
// connection shared by reads and writes each of them waited for the
// transaction until its operation bound ran out. Once the transaction
// commits, the next read sees the revocation.
func TestSQLiteReadsDoNotWaitForAWriteTransaction(t *testing.T) {
	db, _ := openSQLite(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := time.Now().UTC().Truncate(time.Microsecond)
	acct, err := db.CreateAccount(ctx, ports.NewAccount{ID: newUUID(), Email: "reader@example.com", Name: "R",
		PasswordHash: "x", Workspace: "readers", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	tok := outageToken(now)
	tok.AccountID, tok.SubjectEmail = acct.ID, acct.Email
	if _, err := db.Mint(ctx, tok); err != nil {
		t.Fatal(err)
	}
	sess := domain.ConsoleSession{IDHash: domain.HashSecret("s"), AccountID: acct.ID, CSRFToken: "c",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := db.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	owner := domain.Owner{AccountID: acct.ID}
	reads := []struct {
		name string
		read func() error
	}{
		{"ByHash", func() error { _, err := db.ByHash(ctx, tok.TokenHash); return err }},
		{"ByID", func() error {
			got, err := db.ByID(ctx, tok.ID)
			if err == nil && !got.RevokedAt.IsZero() {
				err = errors.New("read an uncommitted revocation")
			}
			return err
		}},
		{"LiveTokens", func() error {
			got, err := db.LiveTokens(ctx, ports.TokenFilter{AccountID: acct.ID}, now)
			if err == nil && len(got) != 1 {
				err = fmt.Errorf("%d live tokens, want 1", len(got))
			}
			return err
		}},
		{"ListLive", func() error {
			_, n, err := db.ListLive(ctx, owner, now, 1, 10)
			if err == nil && n != 1 {
				err = fmt.Errorf("%d listed, want 1", n)
			}
			return err
		}},
		{"RevokedAfter", func() error {
			got, err := db.RevokedAfter(ctx, ports.Revocation{}, 10)
			if err == nil && len(got) != 0 {
				err = fmt.Errorf("feed holds %v before the commit", got)
			}
			return err
		}},
		{"Account", func() error { _, err := db.Account(ctx, acct.ID); return err }},
		{"PasswordHashByEmail", func() error { _, _, err := db.PasswordHashByEmail(ctx, acct.Email); return err }},
		{"ActiveAccountByEmail", func() error {
			ok, err := db.ActiveAccountByEmail(ctx, acct.Email)
			if err == nil && !ok {
				err = errors.New("not active")
			}
			return err
		}},
		{"Workspaces", func() error { _, err := db.Workspaces(ctx, acct.ID); return err }},
		{"Session", func() error { _, err := db.Session(ctx, sess.IDHash, now); return err }},
	}
	held := false
	err = gormrepo.HoldWriteForTest(ctx, db, "UPDATE oauth_access_tokens SET revoked_at = ?, token_hash = NULL WHERE id = ?",
		[]any{now.Format("2006-01-02T15:04:05.000000Z"), tok.ID}, func() {
			held = true
			for _, r := range reads {
				if err := r.read(); err != nil {
					t.Errorf("%s while a write transaction is open: %v", r.name, err)
				}
			}
		})
	if err != nil || !held {
		t.Fatalf("write transaction: %v (held %v)", err, held)
	}
	if _, err := db.ByHash(ctx, tok.TokenHash); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("ByHash after the revocation committed = %v, want domain.ErrNotFound", err)
	}
	if got, err := db.RevokedAfter(ctx, ports.Revocation{}, 10); err != nil || len(got) != 1 || got[0].ID != tok.ID {
		t.Fatalf("feed after the revocation committed = %v, %v", got, err)
	}
}

// TestSQLiteReadsSeeEveryReturnedWrite races mints, rotations and revokes
// against reads on separate goroutines: whatever a goroutine's write
// returned, its next read sees (a minted token is found by its hash, a
// replaced or revoked hash is not), although reads and writes now run on
// different connections. Run with -race.
func TestSQLiteReadsSeeEveryReturnedWrite(t *testing.T) {
	db, _ := openSQLite(t, false)
	ctx := context.Background()
	const workers, rounds = 6, 12
	now := time.Now().UTC().Truncate(time.Microsecond)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	// Background readers and a last-used flusher keep both pools busy (paced,
	// so that they do not starve the workers on a small machine).
	var bg sync.WaitGroup
	for range 2 {
		bg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := db.RevokedAfter(ctx, ports.Revocation{}, 50); err != nil {
					t.Errorf("RevokedAfter: %v", err)
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	var mu sync.Mutex
	used := map[ports.TokenUse]time.Time{}
	bg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			mu.Lock()
			batch := used
			used = map[ports.TokenUse]time.Time{}
			mu.Unlock()
			if err := db.TouchLastUsed(ctx, batch); err != nil {
				t.Errorf("TouchLastUsed: %v", err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
	for w := range workers {
		wg.Go(func() {
			tok := outageToken(now)
			tok.DeviceLabel = fmt.Sprint("device ", w)
			for i := range rounds {
				prev := tok.TokenHash
				tok.ID, tok.TokenHash = newUUID(), domain.HashSecret(newUUID())
				res, err := db.Mint(ctx, tok)
				if err != nil {
					t.Errorf("Mint: %v", err)
					return
				}
				got, err := db.ByHash(ctx, tok.TokenHash)
				if err != nil || got.ID != res.Token.ID {
					t.Errorf("ByHash right after Mint returned = %+v, %v; want row %s", got, err, res.Token.ID)
					return
				}
				mu.Lock()
				used[ports.TokenUse{ID: got.ID, Hash: tok.TokenHash}] = now
				mu.Unlock()
				if res.Rotated {
					if _, err := db.ByHash(ctx, prev); !errors.Is(err, domain.ErrNotFound) {
						t.Errorf("ByHash of the replaced hash after the rotation returned = %v, want domain.ErrNotFound", err)
						return
					}
				}
				if i%3 != 2 {
					continue // rotate next round
				}
				if _, err := db.Revoke(ctx, got.ID, tok.TokenHash, now); err != nil {
					t.Errorf("Revoke: %v", err)
					return
				}
				if _, err := db.ByHash(ctx, tok.TokenHash); !errors.Is(err, domain.ErrNotFound) {
					t.Errorf("ByHash after Revoke returned = %v, want domain.ErrNotFound", err)
					return
				}
				if live, err := db.LiveTokens(ctx, ports.TokenFilter{Email: tok.SubjectEmail, Issuer: tok.SubjectIssuer}, now); err != nil || len(live) != 0 {
					t.Errorf("LiveTokens after Revoke = %d rows, %v; want none", len(live), err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	bg.Wait()
}

// TestSQLiteFilesStayOwnerOnly: the database file and its WAL companions,
// opened by the writer and the readers alike, are readable by the owner only.
func TestSQLiteFilesStayOwnerOnly(t *testing.T) {
	db, path := openSQLite(t, false)
	ctx := context.Background()
	if _, err := db.Mint(ctx, outageToken(time.Now().UTC())); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(path + "*")
	if len(files) == 0 {
		t.Fatal("no database file")
	}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
	}
}
