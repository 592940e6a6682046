package porttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// TestTokenStore checks a ports.TokenStore against every method contract of
// ports/tokenrepo.go, including the concurrency ones: concurrent mints for one
// (subject, client, device) leave exactly one live row and no caller sees an
// error, and exactly one of many concurrent hard expiries wins.
//
// newStore returns the store for one subtest. Stores may share one database:
// every subtest uses fresh random ids, emails, hashes and device labels.
// Times are passed explicitly (no sleeps) and are whole microseconds, the
// precision Postgres keeps. The prune subtests use fixed eras long past
// (1980, 1990) that no other subtest writes in; their exact deleted counts
// assume no one else prunes the same database at the same moment.
func TestTokenStore(t *testing.T, newStore func(t *testing.T) ports.TokenStore) {
	t.Helper()
	cases := []struct {
		name string
		run  func(t *testing.T, s ports.TokenStore)
	}{
		{"MintNew", tokMintNew},
		{"MintExternal", tokMintExternal},
		{"MintExternalEmail320", tokMintEmail320},
		{"MintRotatesInPlace", tokMintRotates},
		{"MintKeysOnSubjectClientDevice", tokMintKeys},
		{"MintRejectsBadBinding", tokMintBadBinding},
		{"LookupNotFound", tokLookupNotFound},
		{"Revoke", tokRevoke},
		{"MintAfterRevokeCreatesNewRow", tokMintAfterRevoke},
		{"MintRevokeMintMint", tokMintAfterRevokeTwice},
		{"RevokePresentedSparesReplacement", tokRevokeReplaced},
		{"RevokePresentedRaceMint", tokRevokeRaceMint},
		{"ExpireHard", tokExpireHard},
		{"ExpireHardRace", tokExpireHardRace},
		{"ListLiveOwners", tokListLiveOwners},
		{"ListLivePaging", tokListLivePaging},
		{"TouchLastUsed", tokTouchLastUsed},
		{"TouchLastUsedRace", tokTouchLastUsedRace},
		{"TouchLastUsedDropsReplacedToken", tokTouchReplaced},
		{"PruneBatches", tokPruneBatches},
		{"Prune", tokPrune},
		{"RaceMint", tokRaceMint},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, newStore(t)) })
	}
}

// tokNow is the "present" of the token subtests: a fixed instant with a
// non-zero microsecond part, in the future so nothing real collides with it.
var tokNow = time.Date(2030, 5, 6, 7, 8, 9, 123456000, time.UTC)

const tokClient = "porttest-cli"

func tokRandHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func tokUUID(t testing.TB) string {
	t.Helper()
	id, err := domain.NewUUID(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// tokUse names the presentation of tok in its own row.
func tokUse(tok domain.AccessToken) ports.TokenUse {
	return ports.TokenUse{ID: tok.ID, Hash: tok.TokenHash}
}

// tokHash returns a fresh 64-hex-digit stand-in for a token's SHA-256.
func tokHash(t testing.TB) string { return tokRandHex(t, 32) }

// tokAccount returns an account token for a fresh account and device, created at created.
func tokAccount(t testing.TB, created time.Time) domain.AccessToken {
	t.Helper()
	return domain.AccessToken{
		ID: tokUUID(t), SubjectEmail: "acct-" + tokRandHex(t, 6) + "@example.com",
		SubjectIssuer: domain.AccountIssuer, AccountID: tokUUID(t), ClientID: tokClient,
		DeviceLabel: "laptop " + tokRandHex(t, 4), Prefix: domain.AccountTokenKind.Prefix,
		TokenHash: tokHash(t), CreatedAt: created, ExpiresAt: created.Add(14 * 24 * time.Hour),
	}
}

// tokExternal returns an external-SSO token for a fresh identity and device.
func tokExternal(t testing.TB, created time.Time) domain.AccessToken {
	t.Helper()
	return domain.AccessToken{
		ID: tokUUID(t), SubjectEmail: "ext-" + tokRandHex(t, 6) + "@corp.example",
		SubjectIssuer: "https://idp.example/" + tokRandHex(t, 4), ClientID: tokClient,
		DeviceLabel: "ci runner " + tokRandHex(t, 4), Prefix: domain.ExternalTokenKind.Prefix,
		TokenHash: tokHash(t), CreatedAt: created, ExpiresAt: created.Add(14 * 24 * time.Hour),
	}
}

// tokAgain returns a fresh mint for the same (subject, client, device) as t0.
func tokAgain(t testing.TB, t0 domain.AccessToken, created time.Time) domain.AccessToken {
	t.Helper()
	n := t0
	n.ID, n.TokenHash = tokUUID(t), tokHash(t)
	n.CreatedAt, n.ExpiresAt = created, created.Add(30*24*time.Hour)
	n.LastUsedAt, n.RevokedAt = time.Time{}, time.Time{}
	return n
}

func tokMint(t testing.TB, s ports.TokenStore, tok domain.AccessToken) ports.MintResult {
	t.Helper()
	res, err := s.Mint(context.Background(), tok)
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	return res
}

func tokByID(t testing.TB, s ports.TokenStore, id string) domain.AccessToken {
	t.Helper()
	got, err := s.ByID(context.Background(), id)
	if err != nil {
		t.Fatalf("ByID(%s): %v", id, err)
	}
	return got
}

func tokWantErr(t testing.TB, what string, got, want error) {
	t.Helper()
	if !errors.Is(got, want) {
		t.Fatalf("%s: error = %v, want %v", what, got, want)
	}
}

func tokWantGone(t testing.TB, s ports.TokenStore, hash string) {
	t.Helper()
	_, err := s.ByHash(context.Background(), hash)
	tokWantErr(t, "ByHash of a replaced, revoked or unknown hash", err, domain.ErrNotFound)
}

// tokAssertRow compares every field; times must be equal instants.
func tokAssertRow(t testing.TB, what string, want, got domain.AccessToken) {
	t.Helper()
	strs := [][3]string{
		{"ID", want.ID, got.ID}, {"SubjectEmail", want.SubjectEmail, got.SubjectEmail},
		{"SubjectIssuer", want.SubjectIssuer, got.SubjectIssuer}, {"AccountID", want.AccountID, got.AccountID},
		{"ClientID", want.ClientID, got.ClientID}, {"DeviceLabel", want.DeviceLabel, got.DeviceLabel},
		{"Prefix", want.Prefix, got.Prefix}, {"TokenHash", want.TokenHash, got.TokenHash},
	}
	for _, f := range strs {
		if f[1] != f[2] {
			t.Errorf("%s: %s = %q, want %q", what, f[0], f[2], f[1])
		}
	}
	times := []struct {
		name      string
		want, got time.Time
	}{
		{"CreatedAt", want.CreatedAt, got.CreatedAt}, {"LastUsedAt", want.LastUsedAt, got.LastUsedAt},
		{"ExpiresAt", want.ExpiresAt, got.ExpiresAt}, {"RevokedAt", want.RevokedAt, got.RevokedAt},
	}
	for _, f := range times {
		if !f.want.Equal(f.got) || f.want.IsZero() != f.got.IsZero() {
			t.Errorf("%s: %s = %v, want %v", what, f.name, f.got, f.want)
		}
	}
}

func tokMintNew(t *testing.T, s ports.TokenStore) {
	ctx := context.Background()
	tok := tokAccount(t, tokNow)
	res := tokMint(t, s, tok)
	if res.Rotated || res.ReplacedHash != "" {
		t.Fatalf("first mint: Rotated=%v ReplacedHash=%q, want a new row", res.Rotated, res.ReplacedHash)
	}
	tokAssertRow(t, "Mint result", tok, res.Token)
	got, err := s.ByHash(ctx, tok.TokenHash)
	if err != nil {
		t.Fatalf("ByHash: %v", err)
	}
	tokAssertRow(t, "ByHash", tok, got)
	tokAssertRow(t, "ByID", tok, tokByID(t, s, tok.ID))
}

func tokMintExternal(t *testing.T, s ports.TokenStore) {
	tok := tokExternal(t, tokNow)
	res := tokMint(t, s, tok)
	if res.Rotated {
		t.Fatal("first external mint reported a rotation")
	}
	tokAssertRow(t, "Mint result", tok, res.Token)
	got := tokByID(t, s, tok.ID)
	tokAssertRow(t, "ByID", tok, got)
	if got.SubjectType() != domain.SubjectExternalSSO {
		t.Fatalf("SubjectType = %q, want external (AccountID must come back empty)", got.SubjectType())
	}
}

func tokMintRotates(t *testing.T, s ports.TokenStore) {
	ctx := context.Background()
	first := tokAccount(t, tokNow)
	tokMint(t, s, first)
	if err := s.TouchLastUsed(ctx, map[ports.TokenUse]time.Time{tokUse(first): tokNow.Add(time.Minute)}); err != nil {
		t.Fatalf("TouchLastUsed: %v", err)
	}

	second := tokAgain(t, first, tokNow.Add(time.Hour))
	res := tokMint(t, s, second)
	if !res.Rotated || res.ReplacedHash != first.TokenHash {
		t.Fatalf("second mint: Rotated=%v ReplacedHash=%q, want true and the first hash", res.Rotated, res.ReplacedHash)
	}
	// Same id; hash, expiry and created_at from the new mint; last use cleared.
	want := second
	want.ID = first.ID
	tokAssertRow(t, "rotated Mint result", want, res.Token)
	tokAssertRow(t, "rotated ByID", want, tokByID(t, s, first.ID))
	got, err := s.ByHash(ctx, second.TokenHash)
	if err != nil {
		t.Fatalf("ByHash(new hash): %v", err)
	}
	tokAssertRow(t, "rotated ByHash", want, got)
	tokWantGone(t, s, first.TokenHash)
	_, err = s.ByID(ctx, second.ID)
	tokWantErr(t, "ByID of the unused id of a rotating mint", err, domain.ErrNotFound)
}

// tokMintKeys: a different device, client or issuer is a different row.
func tokMintKeys(t *testing.T, s ports.TokenStore) {
	base := tokExternal(t, tokNow)
	tokMint(t, s, base)
	variants := map[string]func(*domain.AccessToken){
		"device": func(x *domain.AccessToken) { x.DeviceLabel += " 2" },
		"client": func(x *domain.AccessToken) { x.ClientID = "other-cli" },
		"issuer": func(x *domain.AccessToken) { x.SubjectIssuer += "/other" },
		"email":  func(x *domain.AccessToken) { x.SubjectEmail = "x" + x.SubjectEmail },
	}
	for name, change := range variants {
		v := tokAgain(t, base, tokNow)
		change(&v)
		res := tokMint(t, s, v)
		if res.Rotated || res.Token.ID != v.ID {
			t.Errorf("mint with another %s rotated row %s, want a new row %s", name, res.Token.ID, v.ID)
		}
	}
	tokAssertRow(t, "untouched original", base, tokByID(t, s, base.ID))
}

func tokMintBadBinding(t *testing.T, s ports.TokenStore) {
	ctx := context.Background()
	bad := map[string]func(*domain.AccessToken){
		"account token with an external issuer": func(x *domain.AccessToken) { x.SubjectIssuer = "https://idp.example" },
		"external token with the account issuer": func(x *domain.AccessToken) {
			x.AccountID, x.SubjectIssuer = "", domain.AccountIssuer
		},
		"external token with a blank issuer": func(x *domain.AccessToken) { x.AccountID, x.SubjectIssuer = "", "  " },
		"empty subject email":                func(x *domain.AccessToken) { x.SubjectEmail = "" },
	}
	for name, change := range bad {
		tok := tokAccount(t, tokNow)
		change(&tok)
		if _, err := s.Mint(ctx, tok); err == nil {
			t.Errorf("%s: Mint succeeded, want a binding error", name)
		}
		_, err := s.ByID(ctx, tok.ID)
		tokWantErr(t, name+": ByID after a refused mint", err, domain.ErrNotFound)
		tokWantGone(t, s, tok.TokenHash)
	}
}

func tokLookupNotFound(t *testing.T, s ports.TokenStore) {
	ctx := context.Background()
	_, err := s.ByHash(ctx, tokHash(t))
	tokWantErr(t, "ByHash(unknown)", err, domain.ErrNotFound)
	_, err = s.ByID(ctx, tokUUID(t))
	tokWantErr(t, "ByID(unknown)", err, domain.ErrNotFound)
	// Ids arrive from URLs: a malformed one is simply not found.
	for _, id := range []string{"not-a-uuid", "", "'; drop table oauth_access_tokens; --"} {
		_, err = s.ByID(ctx, id)
		tokWantErr(t, "ByID("+id+")", err, domain.ErrNotFound)
		_, err = s.Revoke(ctx, id, "", tokNow)
		tokWantErr(t, "Revoke("+id+")", err, domain.ErrNotFound)
		if won, err := s.ExpireHard(ctx, id, tokNow); err != nil || won {
			t.Errorf("ExpireHard(%q) = %v, %v; want false, nil", id, won, err)
		}
	}
}
