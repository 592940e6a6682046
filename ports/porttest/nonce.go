package porttest

import (
	"fmt"
	"testing"
	"time"

	"github.com/devicegate/devicegate/ports"
)

// TestNonceStore checks a ports.NonceStore: a nonce is reserved once (a
// second Reserve, by anyone, is a replay), Release frees it only for the
// owner that reserved it, and of many concurrent reservations exactly one
// wins. Nonces are random, so stores may share a backend.
func TestNonceStore(t *testing.T, newStore func(t *testing.T) ports.NonceStore) {
	t.Helper()
	cases := []struct {
		name string
		run  func(t *testing.T, s ports.NonceStore)
	}{
		{"ReserveOnce", nonceReserveOnce},
		{"Release", nonceRelease},
		{"Independent", nonceIndependent},
		{"Race", nonceRace},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

// nonceTTL is long enough that no test sees a reservation expire.
const nonceTTL = 10 * time.Minute

// nonceReserve calls Reserve and fails t unless it answers want.
func nonceReserve(t *testing.T, s ports.NonceStore, nonce, owner string, want bool) {
	t.Helper()
	got, err := s.Reserve(t.Context(), nonce, owner, nonceTTL)
	stWantErr(t, "Reserve", err, nil)
	if got != want {
		t.Fatalf("Reserve by %s = %v, want %v", owner, got, want)
	}
}

// nonceReleaseBy calls Release and fails t on an error.
func nonceReleaseBy(t *testing.T, s ports.NonceStore, nonce, owner string) {
	t.Helper()
	stWantErr(t, "Release by "+owner, s.Release(t.Context(), nonce, owner), nil)
}

// nonceReserveOnce: the second reservation is refused, even by the owner.
func nonceReserveOnce(t *testing.T, s ports.NonceStore) {
	n := "nonce-" + stRandHex(16)
	nonceReserve(t, s, n, "owner-a", true)
	nonceReserve(t, s, n, "owner-b", false)
	nonceReserve(t, s, n, "owner-a", false)
}

// nonceRelease: only the owner's release frees the nonce; releasing an
// unknown nonce is a harmless no-op.
func nonceRelease(t *testing.T, s ports.NonceStore) {
	n := "nonce-" + stRandHex(16)
	nonceReleaseBy(t, s, n, "owner-a") // unknown nonce
	nonceReserve(t, s, n, "owner-a", true)
	nonceReleaseBy(t, s, n, "owner-b")
	nonceReserve(t, s, n, "owner-c", false)
	nonceReleaseBy(t, s, n, "owner-a")
	nonceReserve(t, s, n, "owner-c", true)
	nonceReleaseBy(t, s, n, "owner-a") // the previous owner is now stale
	nonceReserve(t, s, n, "owner-d", false)
	nonceReleaseBy(t, s, n, "owner-c")
	nonceReserve(t, s, n, "owner-d", true)
}

// nonceIndependent: nonces do not share reservations.
func nonceIndependent(t *testing.T, s ports.NonceStore) {
	a, b := "nonce-"+stRandHex(16), "nonce-"+stRandHex(16)
	nonceReserve(t, s, a, "owner", true)
	nonceReserve(t, s, b, "owner", true)
	nonceReleaseBy(t, s, a, "owner")
	nonceReserve(t, s, b, "other", false)
}

// nonceRace: of 50 concurrent reservations of one nonce exactly one wins,
// and it is the winner's to release.
func nonceRace(t *testing.T, s ports.NonceStore) {
	const n = 50
	nonce := "nonce-" + stRandHex(16)
	won := make([]bool, n)
	errs := make([]error, n)
	stRace(n, func(i int) { won[i], errs[i] = s.Reserve(t.Context(), nonce, fmt.Sprint("owner-", i), nonceTTL) })
	winner := -1
	for i := range won {
		stWantErr(t, fmt.Sprint("Reserve ", i), errs[i], nil)
		if won[i] {
			if winner >= 0 {
				t.Fatalf("owners %d and %d both reserved the nonce", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no reservation won")
	}
	nonceReleaseBy(t, s, nonce, fmt.Sprint("owner-", (winner+1)%n))
	nonceReserve(t, s, nonce, "late", false)
	nonceReleaseBy(t, s, nonce, fmt.Sprint("owner-", winner))
	nonceReserve(t, s, nonce, "late", true)
}
