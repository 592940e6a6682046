package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
)

// RFC 7636 Appendix B.
const (
	rfcVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfcChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

func TestPKCEChallengeRFCVector(t *testing.T) {
	if got := domain.PKCEChallenge(rfcVerifier); got != rfcChallenge {
		t.Fatalf("PKCEChallenge = %q, want %q", got, rfcChallenge)
	}
}

func TestValidCodeChallenge(t *testing.T) {
	for c, want := range map[string]bool{
		rfcChallenge:                  true,
		"":                            false,
		rfcChallenge[:42]:             false,
		rfcChallenge + "A":            false,
		rfcChallenge[:42] + "=":       false, // padding is not base64url without padding
		"+" + rfcChallenge[1:]:        false, // standard, not URL-safe, alphabet
		rfcChallenge[:42] + "N":       false, // stray trailing bits: no digest encodes so
		strings.Repeat("a", 43):       false, // 'a' = 26 has trailing bits set too
		strings.Repeat("A", 42) + "A": true,
	} {
		if got := domain.ValidCodeChallenge(c); got != want {
			t.Errorf("ValidCodeChallenge(%q) = %v, want %v", c, got, want)
		}
	}
}

func TestValidCodeVerifier(t *testing.T) {
	for v, want := range map[string]bool{
		rfcVerifier:                         true,
		strings.Repeat("a", 43):             true,
		strings.Repeat("Z9-._~", 21) + "ab": true, // 128
		strings.Repeat("a", 42):             false,
		strings.Repeat("a", 129):            false,
		strings.Repeat("a", 42) + "+":       false,
		strings.Repeat("a", 42) + " ":       false,
		strings.Repeat("a", 42) + "\u00e9":  false,
	} {
		if got := domain.ValidCodeVerifier(v); got != want {
			t.Errorf("ValidCodeVerifier(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestPollPKCE: a flow with a challenge answers only the matching verifier;
// a missing or wrong one (or a verifier on a flow without a challenge) is
// invalid_grant and changes nothing: no claim, no poll time, no slow-down.
// Expiry and the client check come first.
func TestPollPKCE(t *testing.T) {
	withChallenge := func(f *domain.Flow) *domain.Flow { f.CodeChallenge = rfcChallenge; return f }
	right := domain.PollRequest{ClientID: "difyctl", ClaimID: "new", VerifierChallenge: rfcChallenge}
	wrong := right
	wrong.VerifierChallenge = domain.PKCEChallenge(rfcVerifier + "x")
	missing := right
	missing.VerifierChallenge = ""
	tooSoon := withChallenge(withStatus(domain.FlowApproved))
	tooSoon.LastPolledAt = t0.Add(-time.Second)

	for _, c := range []struct {
		name string
		flow *domain.Flow
		req  domain.PollRequest
		now  time.Time
		err  error
	}{
		{"missing verifier", withChallenge(pending()), missing, t0, domain.ErrVerifierMismatch},
		{"wrong verifier", withChallenge(pending()), wrong, t0, domain.ErrVerifierMismatch},
		{"wrong verifier on an approved flow", withChallenge(withStatus(domain.FlowApproved)), wrong, t0, domain.ErrVerifierMismatch},
		{"wrong verifier too soon", tooSoon, wrong, t0, domain.ErrVerifierMismatch},
		{"verifier without a challenge", withStatus(domain.FlowApproved), right, t0, domain.ErrVerifierMismatch},
		{"expired beats the verifier", withChallenge(pending()), missing, t0.Add(domain.FlowLifetime), domain.ErrExpiredToken},
		{"wrong client beats the verifier", withChallenge(pending()), domain.PollRequest{ClientID: "other"}, t0, domain.ErrInvalidGrant},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := domain.Poll(c.flow, c.req, c.now)
			if !errors.Is(st.Err, c.err) {
				t.Fatalf("err = %v, want %v", st.Err, c.err)
			}
			if c.err == domain.ErrInvalidGrant && errors.Is(st.Err, domain.ErrVerifierMismatch) { //nolint:errorlint // the case's own sentinel by identity: ErrVerifierMismatch wraps ErrInvalidGrant
				t.Fatal("a wrong client is not a verifier mismatch")
			}
			if st.Store || (st.Delete && !errors.Is(c.err, domain.ErrExpiredToken)) {
				t.Fatalf("a refused poll changed the flow: store=%v delete=%v", st.Store, st.Delete)
			}
		})
	}
	if !errors.Is(domain.ErrVerifierMismatch, domain.ErrInvalidGrant) {
		t.Fatal("a verifier mismatch is an invalid_grant on the wire")
	}

	st := domain.Poll(withChallenge(withStatus(domain.FlowApproved)), right, t0)
	if st.Err != nil || st.Next.Status != domain.FlowClaimed || st.Next.CodeChallenge != rfcChallenge {
		t.Fatalf("right verifier: %v %+v", st.Err, st.Next)
	}
	st = domain.Poll(withChallenge(pending()), right, t0)
	if !errors.Is(st.Err, domain.ErrAuthorizationPending) || !st.Store || !st.Next.LastPolledAt.Equal(t0) {
		t.Fatalf("right verifier on a pending flow: %v %+v", st.Err, st.Next)
	}
}
