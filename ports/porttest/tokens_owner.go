package porttest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// OwnedTokenStore is a token backend with the offboarding ports.
type OwnedTokenStore = interface {
	ports.TokenStore
	ports.OwnedTokens
	ports.RevocationFeed
}

// TestOwnedTokens checks ports.OwnedTokens and ports.RevocationFeed: a filter
// must name exactly one selector, listing and revoking select the same live
// rows (by id, by account, by email in any case + issuer), each revoked row is
// reported once with the hash it cleared even when revokes and rotations
// race, and the feed pages through revocations in (revoked_at, id) order.
// Stores may share one database; the feed subtest writes only in its own era (2041).
func TestOwnedTokens(t *testing.T, newStore func(t *testing.T) OwnedTokenStore) {
	t.Helper()
	cases := []struct {
		name string
		run  func(t *testing.T, s OwnedTokenStore)
	}{
		{"FilterNamesOneSelector", ownFilter},
		{"LiveTokensSelect", ownList},
		{"RevokeTokens", ownRevoke},
		{"RevokeTokensRace", ownRevokeRace},
		{"RevokeRacesRotation", ownRevokeRotation},
		{"RevokedAfterPages", ownFeed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, newStore(t)) })
	}
}

// ownFixture is one account with two live devices, plus rows that must never
// be selected with it: another account, an external identity with the same
// email, an expired row and a revoked row of the same account.
type ownFixture struct {
	account            string
	email              string
	older, newer       domain.AccessToken
	other, ext         domain.AccessToken
	expired, revokedID string
}

func ownSetup(t *testing.T, s OwnedTokenStore) ownFixture {
	t.Helper()
	older := tokAccount(t, tokNow.Add(-2*time.Hour))
	newer := tokAccount(t, tokNow.Add(-time.Hour))
	newer.AccountID, newer.SubjectEmail = older.AccountID, older.SubjectEmail
	expired := tokAccount(t, tokNow.Add(-30*24*time.Hour))
	expired.AccountID, expired.SubjectEmail = older.AccountID, older.SubjectEmail
	revoked := tokAccount(t, tokNow.Add(-3*time.Hour))
	revoked.AccountID, revoked.SubjectEmail = older.AccountID, older.SubjectEmail
	ext := tokExternal(t, tokNow.Add(-time.Hour))
	ext.SubjectEmail = older.SubjectEmail
	f := ownFixture{account: older.AccountID, email: older.SubjectEmail, older: older, newer: newer,
		other: tokAccount(t, tokNow), ext: ext, expired: expired.ID, revokedID: revoked.ID}
	for _, tok := range []domain.AccessToken{older, newer, expired, revoked, f.other, ext} {
		tokMint(t, s, tok)
	}
	if rows, err := s.RevokeTokens(context.Background(), ports.TokenFilter{ID: revoked.ID}, tokNow.Add(-time.Minute)); err != nil || len(rows) != 1 {
		t.Fatalf("RevokeTokens(id): %d rows, %v", len(rows), err)
	}
	return f
}

func ownIDs(rows []domain.AccessToken) []string {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids
}

func ownLive(t testing.TB, s OwnedTokenStore, f ports.TokenFilter) []string {
	t.Helper()
	rows, err := s.LiveTokens(context.Background(), f, tokNow)
	if err != nil {
		t.Fatalf("LiveTokens(%+v): %v", f, err)
	}
	return ownIDs(rows)
}

func ownFilter(t *testing.T, s OwnedTokenStore) {
	ctx := context.Background()
	f := ownSetup(t, s)
	for _, bad := range []ports.TokenFilter{
		{}, {Issuer: domain.AccountIssuer}, {ID: f.older.ID, AccountID: f.account},
		{AccountID: f.account, Issuer: domain.AccountIssuer}, {Email: f.email},
		{Email: f.email, Issuer: domain.AccountIssuer, ID: f.older.ID},
	} {
		if _, err := s.LiveTokens(ctx, bad, tokNow); !errors.Is(err, ports.ErrBadTokenFilter) {
			t.Errorf("LiveTokens(%+v): %v, want ErrBadTokenFilter", bad, err)
		}
		if rows, err := s.RevokeTokens(ctx, bad, tokNow); !errors.Is(err, ports.ErrBadTokenFilter) || len(rows) != 0 {
			t.Errorf("RevokeTokens(%+v): %d rows, %v, want ErrBadTokenFilter", bad, len(rows), err)
		}
	}
	if got := ownLive(t, s, ports.TokenFilter{AccountID: f.account}); len(got) != 2 {
		t.Fatalf("a refused filter revoked rows: %d live, want 2", len(got))
	}
}

func ownList(t *testing.T, s OwnedTokenStore) {
	f := ownSetup(t, s)
	want := []string{f.newer.ID, f.older.ID} // newest first
	for _, sel := range []ports.TokenFilter{
		{AccountID: f.account},
		{AccountID: strings.ToUpper(f.account)},
		{Email: strings.ToUpper(f.email), Issuer: domain.AccountIssuer},
		{Email: " " + f.email + " ", Issuer: domain.AccountIssuer},
	} {
		if got := ownLive(t, s, sel); !slices.Equal(got, want) {
			t.Errorf("LiveTokens(%+v) = %v, want %v", sel, got, want)
		}
	}
	if got := ownLive(t, s, ports.TokenFilter{Email: f.email, Issuer: f.ext.SubjectIssuer}); !slices.Equal(got, []string{f.ext.ID}) {
		t.Errorf("external identity: %v, want [%s]", got, f.ext.ID)
	}
	if got := ownLive(t, s, ports.TokenFilter{ID: f.older.ID}); !slices.Equal(got, []string{f.older.ID}) {
		t.Errorf("by id: %v", got)
	}
	for _, sel := range []ports.TokenFilter{
		{ID: f.revokedID}, {ID: f.expired}, {ID: tokUUID(t)}, {ID: "not-a-uuid"}, {AccountID: "42"},
		{Email: "nobody-" + tokRandHex(t, 4) + "@example.com", Issuer: domain.AccountIssuer},
	} {
		if got := ownLive(t, s, sel); len(got) != 0 {
			t.Errorf("LiveTokens(%+v) = %v, want none", sel, got)
		}
	}
}

func ownRevoke(t *testing.T, s OwnedTokenStore) {
	ctx := context.Background()
	f := ownSetup(t, s)
	at := tokNow.Add(time.Minute)
	rows, err := s.RevokeTokens(ctx, ports.TokenFilter{Email: strings.ToUpper(f.email), Issuer: domain.AccountIssuer}, at)
	if err != nil {
		t.Fatalf("RevokeTokens: %v", err)
	}
	slices.SortFunc(rows, func(a, b domain.AccessToken) int { return b.CreatedAt.Compare(a.CreatedAt) })
	if len(rows) != 2 {
		t.Fatalf("RevokeTokens revoked %v, want the two live rows", ownIDs(rows))
	}
	for i, tok := range []domain.AccessToken{f.newer, f.older} {
		want := tok
		want.RevokedAt = at
		tokAssertRow(t, "returned row (TokenHash = the hash cleared)", want, rows[i])
		want.TokenHash = ""
		tokAssertRow(t, "stored row", want, tokByID(t, s, tok.ID))
		tokWantGone(t, s, tok.TokenHash)
	}
	if got := ownLive(t, s, ports.TokenFilter{AccountID: f.account}); len(got) != 0 {
		t.Fatalf("live after revoke: %v", got)
	}
	// Nothing else was touched: the other account, the external identity
	// with the same email, and the expired row (it dies on its own).
	for _, id := range []string{f.other.ID, f.ext.ID, f.expired} {
		if r := tokByID(t, s, id); !r.RevokedAt.IsZero() || r.TokenHash == "" {
			t.Errorf("row %s was revoked by a filter that does not select it", id)
		}
	}
	again, err := s.RevokeTokens(ctx, ports.TokenFilter{AccountID: f.account}, at)
	if err != nil || len(again) != 0 {
		t.Fatalf("second RevokeTokens: %v, %v; want nothing", ownIDs(again), err)
	}
	one, err := s.RevokeTokens(ctx, ports.TokenFilter{ID: f.ext.ID}, at)
	if err != nil || !slices.Equal(ownIDs(one), []string{f.ext.ID}) || one[0].TokenHash != f.ext.TokenHash {
		t.Fatalf("RevokeTokens by id: %v, %v", ownIDs(one), err)
	}
	// The device signs in again: a new live row.
	res := tokMint(t, s, tokAgain(t, f.older, at.Add(time.Minute)))
	if res.Rotated || res.Token.ID == f.older.ID {
		t.Fatalf("mint after an owner revoke rotated the revoked row: %+v", res)
	}
}

func ownRevokeRace(t *testing.T, s OwnedTokenStore) {
	ctx := context.Background()
	first := tokAccount(t, tokNow)
	want := []string{first.ID}
	tokMint(t, s, first)
	for range 4 {
		more := tokAccount(t, tokNow)
		more.AccountID, more.SubjectEmail = first.AccountID, first.SubjectEmail
		tokMint(t, s, more)
		want = append(want, more.ID)
	}
	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	ready := tokStartLine(t, s)
	for range tokRacers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ready()
			rows, err := s.RevokeTokens(ctx, ports.TokenFilter{AccountID: first.AccountID}, tokNow.Add(time.Second))
			if err != nil {
				t.Errorf("RevokeTokens: %v", err)
			}
			mu.Lock()
			got = append(got, ownIDs(rows)...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("concurrent revokes returned %v, want each of %v exactly once", got, want)
	}
}

// ownRevokeRotation races a revoke of an account against a second sign-in of
// the same device: whichever wins, the hash reported cleared is the one the
// row held, and the token that survives is exactly the one minted after.
func ownRevokeRotation(t *testing.T, s OwnedTokenStore) {
	ctx := context.Background()
	for i := range 10 {
		tok := tokAccount(t, tokNow)
		tokMint(t, s, tok)
		again := tokAgain(t, tok, tokNow.Add(time.Second))
		var (
			wg      sync.WaitGroup
			res     ports.MintResult
			revoked []domain.AccessToken
			mErr    error
			rErr    error
		)
		wg.Add(2)
		go func() { defer wg.Done(); res, mErr = s.Mint(ctx, again) }()
		go func() {
			defer wg.Done()
			revoked, rErr = s.RevokeTokens(ctx, ports.TokenFilter{AccountID: tok.AccountID}, tokNow.Add(time.Second))
		}()
		wg.Wait()
		if mErr != nil || rErr != nil {
			t.Fatalf("run %d: mint %v, revoke %v", i, mErr, rErr)
		}
		if len(revoked) != 1 || revoked[0].ID != tok.ID {
			t.Fatalf("run %d: revoked %v, want the one row %s", i, ownIDs(revoked), tok.ID)
		}
		_, err := s.ByHash(ctx, again.TokenHash)
		if res.Rotated { // the mint went first: the revoke cleared the new hash
			if revoked[0].TokenHash != again.TokenHash || err == nil {
				t.Fatalf("run %d: rotation then revoke: cleared %q (want the new hash), new token live=%v", i, revoked[0].TokenHash, err == nil)
			}
		} else if revoked[0].TokenHash != tok.TokenHash || err != nil {
			t.Fatalf("run %d: revoke then mint: cleared %q (want the old hash), new token: %v", i, revoked[0].TokenHash, err)
		}
	}
}

// ownEra is when the feed subtest revokes; no other subtest writes then.
var ownEra = time.Date(2041, 3, 4, 5, 6, 7, 0, time.UTC)

func ownFeed(t *testing.T, s OwnedTokenStore) {
	ctx := context.Background()
	// Four revocations: two at the same instant (ordered by id), one a hard
	// expiry (it also ends a token, so the feed reports it).
	var toks []domain.AccessToken
	for range 4 {
		tok := tokAccount(t, ownEra.Add(-time.Hour))
		tokMint(t, s, tok)
		toks = append(toks, tok)
	}
	at := []time.Time{ownEra.Add(time.Second), ownEra.Add(2 * time.Second), ownEra.Add(2 * time.Second)}
	for i, when := range at {
		if rows, err := s.RevokeTokens(ctx, ports.TokenFilter{ID: toks[i].ID}, when); err != nil || len(rows) != 1 {
			t.Fatalf("RevokeTokens: %d rows, %v", len(rows), err)
		}
	}
	expiry := ownEra.Add(14*24*time.Hour - time.Hour)
	if won, err := s.ExpireHard(ctx, toks[3].ID, expiry); err != nil || !won {
		t.Fatalf("ExpireHard: %v %v", won, err)
	}
	want := []ports.Revocation{{ID: toks[0].ID, RevokedAt: at[0]}, {ID: toks[1].ID, RevokedAt: at[1]},
		{ID: toks[2].ID, RevokedAt: at[2]}, {ID: toks[3].ID, RevokedAt: expiry}}
	if want[1].ID > want[2].ID {
		want[1], want[2] = want[2], want[1]
	}
	// Page through one at a time from the start of the era.
	var got []ports.Revocation
	key := ports.Revocation{RevokedAt: ownEra}
	for range 10 {
		page, err := s.RevokedAfter(ctx, key, 1)
		if err != nil {
			t.Fatalf("RevokedAfter: %v", err)
		}
		if len(page) == 0 || page[0].RevokedAt.After(ownEra.Add(30*24*time.Hour)) {
			break
		}
		got = append(got, page...)
		key = page[len(page)-1]
	}
	if len(got) != len(want) {
		t.Fatalf("feed = %v, want %v", got, want)
	}
	for i := range want {
		if got[i].ID != want[i].ID || !got[i].RevokedAt.Equal(want[i].RevokedAt) {
			t.Fatalf("feed[%d] = %+v, want %+v (all: %v)", i, got[i], want[i], got)
		}
	}
	// A bare time includes revocations at that instant; a key excludes itself.
	page, err := s.RevokedAfter(ctx, ports.Revocation{RevokedAt: at[1]}, 2)
	if err != nil || len(page) != 2 || page[0].ID != want[1].ID || page[1].ID != want[2].ID {
		t.Fatalf("RevokedAfter(time %s) = %v, %v; want the two revoked then", at[1], page, err)
	}
	page, err = s.RevokedAfter(ctx, want[3], 5)
	if err != nil || (len(page) > 0 && !page[0].RevokedAt.After(ownEra.Add(30*24*time.Hour))) {
		t.Fatalf("RevokedAfter(last) = %v, %v; want nothing of this era", page, err)
	}
}
