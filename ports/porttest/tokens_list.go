package porttest

import (
	"context"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

func tokListIDs(t testing.TB, s ports.TokenStore, o domain.Owner, now time.Time, page, limit int) ([]string, int) {
	t.Helper()
	rows, total, err := s.ListLive(context.Background(), o, now, page, limit)
	if err != nil {
		t.Fatalf("ListLive(%+v, page %d, limit %d): %v", o, page, limit, err)
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids, total
}

func tokWantIDs(t testing.TB, what string, got []string, total int, want []string, wantTotal int) {
	t.Helper()
	if total != wantTotal || len(got) != len(want) {
		t.Fatalf("%s: ids %v total %d, want %v total %d", what, got, total, want, wantTotal)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: ids %v, want %v (newest first)", what, got, want)
		}
	}
}

// tokListLiveOwners: an account sees its rows only; an external identity sees
// rows with its email and issuer and no account, even when an account token
// carries the same email.
func tokListLiveOwners(t *testing.T, s ports.TokenStore) {
	acct := tokAccount(t, tokNow)
	tokMint(t, s, acct)
	other := tokAccount(t, tokNow)
	tokMint(t, s, other)
	ext := tokExternal(t, tokNow.Add(time.Second))
	ext.SubjectEmail = acct.SubjectEmail
	tokMint(t, s, ext)
	sameIssuer := tokExternal(t, tokNow)
	sameIssuer.SubjectIssuer = ext.SubjectIssuer
	tokMint(t, s, sameIssuer)

	ids, total := tokListIDs(t, s, domain.Owner{AccountID: acct.AccountID}, tokNow, 1, 100)
	tokWantIDs(t, "account owner", ids, total, []string{acct.ID}, 1)
	ids, total = tokListIDs(t, s, domain.Owner{Email: ext.SubjectEmail, Issuer: ext.SubjectIssuer}, tokNow, 1, 100)
	tokWantIDs(t, "external owner", ids, total, []string{ext.ID}, 1)
	ids, total = tokListIDs(t, s, domain.Owner{Email: ext.SubjectEmail, Issuer: ext.SubjectIssuer + "/x"}, tokNow, 1, 100)
	tokWantIDs(t, "external owner, other issuer", ids, total, nil, 0)
	ids, total = tokListIDs(t, s, domain.Owner{Email: acct.SubjectEmail, Issuer: domain.AccountIssuer}, tokNow, 1, 100)
	tokWantIDs(t, "account email posing as an external owner", ids, total, nil, 0)
	ids, total = tokListIDs(t, s, domain.Owner{AccountID: tokUUID(t)}, tokNow, 1, 100)
	tokWantIDs(t, "unknown account", ids, total, nil, 0)
	ids, total = tokListIDs(t, s, domain.Owner{AccountID: "not-a-uuid"}, tokNow, 1, 100)
	tokWantIDs(t, "malformed account id", ids, total, nil, 0)
}

// tokListLivePaging: newest first, 1-based pages, total over all pages,
// revoked and expired rows left out.
func tokListLivePaging(t *testing.T, s ports.TokenStore) {
	ctx := context.Background()
	first := tokAccount(t, tokNow.Add(-3*time.Hour))
	owner := domain.Owner{AccountID: first.AccountID}
	var ids []string // newest first
	for i := range 5 {
		tok := first
		if i > 0 {
			tok = tokAccount(t, tokNow.Add(time.Duration(i-3)*time.Hour))
			tok.AccountID, tok.SubjectEmail = first.AccountID, first.SubjectEmail
		}
		tokMint(t, s, tok)
		ids = append([]string{tok.ID}, ids...)
	}
	// Revoke the newest row, and add one that expired six days ago.
	if _, err := s.Revoke(ctx, ids[0], "", tokNow); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	expired := tokAccount(t, tokNow.Add(-20*24*time.Hour)) // created long ago, expired 6 days ago
	expired.AccountID, expired.SubjectEmail = first.AccountID, first.SubjectEmail
	tokMint(t, s, expired)
	live := ids[1:] // 4 live rows, newest first

	got, total := tokListIDs(t, s, owner, tokNow, 1, 100)
	tokWantIDs(t, "all", got, total, live, 4)
	got, total = tokListIDs(t, s, owner, tokNow, 1, 3)
	tokWantIDs(t, "page 1 of 3", got, total, live[:3], 4)
	got, total = tokListIDs(t, s, owner, tokNow, 2, 3)
	tokWantIDs(t, "page 2 of 3", got, total, live[3:], 4)
	got, total = tokListIDs(t, s, owner, tokNow, 3, 3)
	tokWantIDs(t, "page past the end", got, total, nil, 4)

	// At the expiry instant a row is no longer live (valid means expires_at > now).
	at := tokByID(t, s, live[3]).ExpiresAt
	got, total = tokListIDs(t, s, owner, at, 1, 100)
	tokWantIDs(t, "at the oldest row's expiry", got, total, live[:3], 3)
}

func tokTouchLastUsed(t *testing.T, s ports.TokenStore) {
	ctx := context.Background()
	a, b := tokAccount(t, tokNow), tokExternal(t, tokNow)
	tokMint(t, s, a)
	tokMint(t, s, b)
	touch := func(seen map[ports.TokenUse]time.Time) {
		t.Helper()
		if err := s.TouchLastUsed(ctx, seen); err != nil {
			t.Fatalf("TouchLastUsed: %v", err)
		}
	}
	lastUsed := func(id string) time.Time { t.Helper(); return tokByID(t, s, id).LastUsedAt }

	t1 := tokNow.Add(10 * time.Minute)
	touch(map[ports.TokenUse]time.Time{
		tokUse(a): t1, tokUse(b): t1.Add(time.Minute),
		{ID: tokUUID(t), Hash: tokHash(t)}: t1, {ID: "not-a-uuid", Hash: tokHash(t)}: t1,
	})
	if got := lastUsed(a.ID); !got.Equal(t1) {
		t.Fatalf("LastUsedAt = %v, want %v", got, t1)
	}
	if got := lastUsed(b.ID); !got.Equal(t1.Add(time.Minute)) {
		t.Fatalf("LastUsedAt of the second row = %v, want %v", got, t1.Add(time.Minute))
	}
	touch(map[ports.TokenUse]time.Time{tokUse(a): t1.Add(-time.Minute)})
	if got := lastUsed(a.ID); !got.Equal(t1) {
		t.Fatalf("LastUsedAt moved backwards to %v, want it kept at %v", got, t1)
	}
	t2 := t1.Add(time.Hour)
	touch(map[ports.TokenUse]time.Time{tokUse(a): t2})
	if got := lastUsed(a.ID); !got.Equal(t2) {
		t.Fatalf("LastUsedAt = %v, want %v", got, t2)
	}
	touch(nil)
}

// tokPruneRow mints a row created at created, expiring at expires,
// and revoked at revokedAt unless that is zero.
func tokPruneRow(t testing.TB, s ports.TokenStore, created, expires, revokedAt time.Time) domain.AccessToken {
	t.Helper()
	tok := tokAccount(t, created)
	tok.ExpiresAt = expires
	tokMint(t, s, tok)
	if !revokedAt.IsZero() {
		if _, err := s.Revoke(context.Background(), tok.ID, "", revokedAt); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
	}
	return tok
}

func tokPruneBatches(t *testing.T, s ports.TokenStore) {
	ctx := context.Background()
	era := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	var toks []domain.AccessToken
	for i := range 7 {
		created := era.Add(time.Duration(i) * time.Minute)
		if i%2 == 0 {
			toks = append(toks, tokPruneRow(t, s, created, created.Add(time.Hour), time.Time{}))
		} else {
			toks = append(toks, tokPruneRow(t, s, created, created.Add(24*time.Hour), created.Add(time.Minute)))
		}
	}
	n, err := s.Prune(ctx, era.Add(48*time.Hour), 3)
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	if n != 7 {
		t.Fatalf("Prune in batches of 3 deleted %d rows, want 7", n)
	}
	for _, tok := range toks {
		_, err := s.ByID(ctx, tok.ID)
		tokWantErr(t, "ByID of a pruned row", err, domain.ErrNotFound)
	}
}

func tokPrune(t *testing.T, s ports.TokenStore) {
	ctx := context.Background()
	cutoff := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	old, day := cutoff.Add(-60*24*time.Hour), 24*time.Hour
	far := cutoff.Add(300 * day)
	gone := []domain.AccessToken{
		tokPruneRow(t, s, old, far, cutoff.Add(-time.Microsecond)),  // revoked before the cutoff
		tokPruneRow(t, s, old, cutoff.Add(-time.Hour), time.Time{}), // expired before the cutoff, never revoked
	}
	kept := []domain.AccessToken{
		tokPruneRow(t, s, old, far, cutoff.Add(time.Hour)),              // revoked recently
		tokPruneRow(t, s, old, far, cutoff),                             // revoked exactly at the cutoff
		tokPruneRow(t, s, old, far, time.Time{}),                        // live
		tokPruneRow(t, s, old, cutoff.Add(day), time.Time{}),            // expired recently
		tokPruneRow(t, s, old, cutoff, time.Time{}),                     // expired exactly at the cutoff
		tokPruneRow(t, s, old, cutoff.Add(-day), cutoff.Add(time.Hour)), // expired long ago but revoked recently
	}
	n, err := s.Prune(ctx, cutoff, 500)
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	if n != int64(len(gone)) {
		t.Fatalf("Prune deleted %d rows, want %d", n, len(gone))
	}
	check := func() {
		t.Helper()
		for _, tok := range gone {
			_, err := s.ByID(ctx, tok.ID)
			tokWantErr(t, "ByID of a pruned row", err, domain.ErrNotFound)
		}
		for _, tok := range kept {
			tokByID(t, s, tok.ID) //nolint:contextcheck // the suite's shared helper, with its own background context like every other caller
		}
	}
	check()
	n, err = s.Prune(ctx, cutoff, 500)
	if err != nil || n != 0 {
		t.Fatalf("second Prune = %d, %v; want 0, nil (idempotent)", n, err)
	}
	check()
}
