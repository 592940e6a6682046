package jwssigner_test

import (
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/jwssigner"
	"github.com/devicegate/devicegate/domain"
)

// fuzzKey and fuzzNow are fixed so the committed seeds (testdata/fuzz) stay
// valid: each seed was signed with fuzzKey and is live at fuzzNow.
const fuzzKey = "fuzz-secret-key-0123456789"

var fuzzNow = time.Date(2031, 2, 3, 4, 5, 16, 0, time.UTC)

// FuzzVerify feeds arbitrary strings to the three Verify methods. Whatever
// verifies must carry every required claim in its shape (domain Validate),
// be live at fuzzNow, survive a re-sign and re-verify unchanged, and verify
// as one object only (the audiences keep the three apart).
func FuzzVerify(f *testing.F) {
	s, err := jwssigner.New(fuzzKey, "fuzz-previous-key-9876543210")
	if err != nil {
		f.Fatal(err)
	}
	iat := fuzzNow.Add(-10 * time.Second)
	a := domain.ExternalAssertion{Email: "ext@corp.example", Issuer: "https://idp", UserCode: "ABCD-EFGH", Nonce: "n",
		IssuedAt: iat, ExpiresAt: iat.Add(domain.ExternalAssertionTTL)}
	for _, sign := range []func() (string, error){
		func() (string, error) {
			return s.SignState(domain.NewStateEnvelope("ABCD-EFGH", "n", "https://api/cb", iat))
		},
		func() (string, error) { return s.SignAssertion(a) },
		func() (string, error) {
			return s.SignGrant(domain.NewApprovalGrant("https://api", a, "n2", "csrf", iat))
		},
	} {
		tok, err := sign()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, token string) {
		kinds := 0
		defer func() {
			if kinds > 1 {
				t.Fatalf("%q verifies as %d kinds of object", token, kinds)
			}
		}()
		if e, err := s.VerifyState(token, fuzzNow); err == nil {
			kinds++
			live(t, e.Validate(), e.IssuedAt, e.ExpiresAt)
			again, err := s.SignState(e)
			if err != nil {
				t.Fatalf("re-sign state: %v", err)
			}
			if e2, err := s.VerifyState(again, fuzzNow); err != nil || e2.UserCode != e.UserCode || e2.Nonce != e.Nonce || e2.IdPCallbackURL != e.IdPCallbackURL {
				t.Fatalf("state changed on re-sign: %+v vs %+v (%v)", e2, e, err)
			}
		}
		if a, err := s.VerifyAssertion(token, fuzzNow); err == nil {
			kinds++
			live(t, a.Validate(), a.IssuedAt, a.ExpiresAt)
			again, err := s.SignAssertion(a)
			if err != nil {
				t.Fatalf("re-sign assertion: %v", err)
			}
			if a2, err := s.VerifyAssertion(again, fuzzNow); err != nil || a2.Email != a.Email || a2.Issuer != a.Issuer || a2.UserCode != a.UserCode || a2.Nonce != a.Nonce {
				t.Fatalf("assertion changed on re-sign: %+v vs %+v (%v)", a2, a, err)
			}
		}
		if g, err := s.VerifyGrant(token, fuzzNow); err == nil {
			kinds++
			live(t, g.Validate(), g.IssuedAt, g.ExpiresAt)
			again, err := s.SignGrant(g)
			if err != nil {
				t.Fatalf("re-sign grant: %v", err)
			}
			if g2, err := s.VerifyGrant(again, fuzzNow); err != nil || g2.SubjectEmail != g.SubjectEmail || g2.SubjectIssuer != g.SubjectIssuer || g2.CSRFToken != g.CSRFToken || g2.Nonce != g.Nonce {
				t.Fatalf("grant changed on re-sign: %+v vs %+v (%v)", g2, g, err)
			}
		}
	})
}

// live fails t unless a verified object validates and is live at fuzzNow.
func live(t *testing.T, validate error, iat, exp time.Time) {
	t.Helper()
	if validate != nil {
		t.Fatalf("a verified object fails Validate: %v", validate)
	}
	if iat.After(fuzzNow) || !fuzzNow.Before(exp) {
		t.Fatalf("a verified object is not live: %v..%v at %v", iat, exp, fuzzNow)
	}
}
