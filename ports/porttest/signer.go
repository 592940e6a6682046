package porttest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// NewSignerFunc returns a signer whose active key is secret and whose
// verify-only key is previous ("" for none).
type NewSignerFunc func(t *testing.T, secret, previous string) ports.Signer

// TestSigner checks a ports.Signer against SPEC 5: the three objects round
// trip and interoperate with a plain HS256 implementation; and verification
// refuses alg none and every other alg (including the RS/ES confusion), a
// missing or unknown kid (no fallback to the active key), a wrong audience,
// an expired object, an iat in the future, an over-long lifetime, a tampered
// header, payload or signature, a missing or malformed claim, and an 8 KiB token.
func TestSigner(t *testing.T, newSigner NewSignerFunc) {
	t.Helper()
	cases := []struct {
		name string
		run  func(t *testing.T, newSigner NewSignerFunc)
	}{
		{"RoundTrip", sigRoundTrip},
		{"AcceptsPlainHS256", sigAcceptsPlain},
		{"RejectsOtherAlgorithms", sigRejectsAlgs},
		{"RejectsMissingOrUnknownKid", sigRejectsKid},
		{"Rotation", sigRotation},
		{"RejectsWrongAudience", sigRejectsAudience},
		{"Lifetime", sigLifetime},
		{"RejectsTampering", sigRejectsTampering},
		{"RejectsMissingOrMalformedClaims", sigRejectsClaims},
		{"RejectsOversized", sigRejectsOversized},
		{"EmailBounds", sigEmailBounds},
		{"SignRefusesInvalidObjects", sigSignRefuses},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newSigner) })
	}
}

const (
	sigSecret   = "porttest-secret-key-0123456789abcdef"
	sigPrevious = "porttest-previous-key-fedcba9876543210"
	sigIss      = "https://api.example.test"
)

// sigIat is the issue time of the suite's objects; sigNow is within every lifetime.
var (
	sigIat = time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)
	sigNow = sigIat.Add(10 * time.Second)
)

// sigKind describes one signed object for the table-driven subtests.
type sigKind struct {
	name      string
	aud       string
	ttl       time.Duration
	claims    func(iat time.Time) map[string]any
	malformed map[string]any // claim -> a value of the wrong shape
	verify    func(s ports.Signer, token string, now time.Time) error
}

func sigKinds() []sigKind {
	common := map[string]any{"iat": "1700000000", "exp": true, "aud": 7, "user_code": "", "nonce": strings.Repeat("n", 129)}
	with := func(m map[string]any) map[string]any { out := maps.Clone(common); maps.Copy(out, m); return out }
	return []sigKind{{
		name: "state", aud: domain.AudStateEnvelope, ttl: domain.StateEnvelopeTTL,
		claims: func(iat time.Time) map[string]any {
			return map[string]any{"aud": domain.AudStateEnvelope, "iat": iat.Unix(), "exp": iat.Add(domain.StateEnvelopeTTL).Unix(),
				"intent": "device_flow", "user_code": "ABCD-EFGH", "nonce": "state-nonce",
				"idp_callback_url": sigIss + "/openapi/v1/oauth/device/sso-complete", "redirect_url": "", "app_code": "", "return_to": ""}
		},
		malformed: with(map[string]any{"intent": "login", "idp_callback_url": "", "redirect_url": "https://evil.test", "app_code": 1, "return_to": nil}),
		verify: func(s ports.Signer, tok string, now time.Time) error {
			_, err := s.VerifyState(tok, now)
			return err
		},
	}, {
		name: "assertion", aud: domain.AudExternalAssertion, ttl: domain.ExternalAssertionTTL,
		claims: func(iat time.Time) map[string]any {
			return AssertionClaims("ext@corp.example", "https://idp.corp.example", "ABCD-EFGH", "assertion-nonce", iat)
		},
		malformed: with(map[string]any{"sub_type": "account", "email": "no-at-sign", "issuer": strings.Repeat("i", 256)}),
		verify: func(s ports.Signer, tok string, now time.Time) error {
			_, err := s.VerifyAssertion(tok, now)
			return err
		},
	}, {
		name: "grant", aud: domain.AudApprovalGrant, ttl: domain.ApprovalGrantTTL,
		claims: func(iat time.Time) map[string]any {
			return GrantClaims(sigIss, "ext@corp.example", "https://idp.corp.example", "ABCD-EFGH", "grant-nonce", "csrf-value", iat)
		},
		malformed: with(map[string]any{"iss": "", "subject_email": "a@b@c", "subject_issuer": "", "csrf_token": 12}),
		verify: func(s ports.Signer, tok string, now time.Time) error {
			_, err := s.VerifyGrant(tok, now)
			return err
		},
	}}
}

// wantInvalid fails t unless err is domain.ErrInvalidSignedObject.
func wantInvalid(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, domain.ErrInvalidSignedObject) {
		t.Errorf("%s: err = %v, want domain.ErrInvalidSignedObject", what, err)
	}
}

func sigRoundTrip(t *testing.T, newSigner NewSignerFunc) {
	s := newSigner(t, sigSecret, "")
	iat := sigIat.Add(700 * time.Millisecond) // signers keep whole seconds
	env := domain.NewStateEnvelope("ABCD-EFGH", "n1", sigIss+"/cb", iat)
	tok, err := s.SignState(env)
	stWantErr(t, "SignState", err, nil)
	gotEnv, err := s.VerifyState(tok, sigNow)
	stWantErr(t, "VerifyState", err, nil)
	env.IssuedAt, env.ExpiresAt = sigIat, sigIat.Add(domain.StateEnvelopeTTL)
	sigSame(t, "state", gotEnv, env)
	sigCheckWire(t, tok, map[string]any{"aud": domain.AudStateEnvelope, "intent": "device_flow", "redirect_url": "",
		"app_code": "", "return_to": "", "iat": float64(sigIat.Unix()), "exp": float64(sigIat.Unix() + 900)})

	a := domain.ExternalAssertion{Email: "ext@corp.example", Issuer: "https://idp", UserCode: "ABCD-EFGH", Nonce: "n2",
		IssuedAt: sigIat, ExpiresAt: sigIat.Add(domain.ExternalAssertionTTL)}
	tok, err = s.SignAssertion(a)
	stWantErr(t, "SignAssertion", err, nil)
	gotA, err := s.VerifyAssertion(tok, sigNow)
	stWantErr(t, "VerifyAssertion", err, nil)
	sigSame(t, "assertion", gotA, a)
	sigCheckWire(t, tok, map[string]any{"aud": domain.AudExternalAssertion, "sub_type": "external_sso"})

	g := domain.NewApprovalGrant(sigIss, a, "n3", "csrf", sigIat)
	tok, err = s.SignGrant(g)
	stWantErr(t, "SignGrant", err, nil)
	gotG, err := s.VerifyGrant(tok, sigNow)
	stWantErr(t, "VerifyGrant", err, nil)
	sigSame(t, "grant", gotG, g)
	sigCheckWire(t, tok, map[string]any{"aud": domain.AudApprovalGrant, "iss": sigIss, "subject_email": "ext@corp.example"})
}

// sigSame fails t unless a verified object equals what was signed (times
// are whole-second UTC instants on both sides, so == compares them).
func sigSame[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %+v, want %+v", what, got, want)
	}
}

// sigCheckWire decodes token without verifying and checks the header is the
// reference's and the payload holds want.
func sigCheckWire(t *testing.T, token string, want map[string]any) {
	t.Helper()
	p := strings.Split(token, ".")
	if len(p) != 3 {
		t.Fatalf("not compact: %d segments", len(p))
	}
	var hdr, claims map[string]any
	for i, into := range []*map[string]any{&hdr, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(p[i])
		if err != nil || json.Unmarshal(b, into) != nil {
			t.Fatalf("segment %d does not decode: %v", i, err)
		}
	}
	if hdr["alg"] != "HS256" || hdr["kid"] != SignerKID {
		t.Fatalf("header = %v, want alg HS256, kid %s", hdr, SignerKID)
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %#v, want %#v", k, claims[k], v)
		}
	}
}

func sigAcceptsPlain(t *testing.T, newSigner NewSignerFunc) {
	s := newSigner(t, sigSecret, "")
	for _, k := range sigKinds() {
		stWantErr(t, k.name+" from a plain HS256 signer", k.verify(s, ForgeHS256(t, sigSecret, stdHeader(), k.claims(sigIat)), sigNow), nil)
		h := stdHeader()
		delete(h, "typ")
		stWantErr(t, k.name+" without typ", k.verify(s, ForgeHS256(t, sigSecret, h, k.claims(sigIat)), sigNow), nil)
		c := k.claims(sigIat)
		c["aud"] = []string{k.aud}
		stWantErr(t, k.name+" with aud as a one-element array", k.verify(s, ForgeHS256(t, sigSecret, stdHeader(), c), sigNow), nil)
		c = k.claims(sigIat)
		c["jti"], c["nbf"] = "unknown claims are ignored", "x"
		stWantErr(t, k.name+" with extra claims", k.verify(s, ForgeHS256(t, sigSecret, stdHeader(), c), sigNow), nil)
	}
}

func sigRejectsAlgs(t *testing.T, newSigner NewSignerFunc) {
	s := newSigner(t, sigSecret, "")
	for _, k := range sigKinds() {
		for name, tok := range algForgeries(t, sigSecret, k.claims(sigIat)) {
			wantInvalid(t, k.name+": "+name, k.verify(s, tok, sigNow))
		}
	}
}

func sigRejectsKid(t *testing.T, newSigner NewSignerFunc) {
	s := newSigner(t, sigSecret, "")
	for _, k := range sigKinds() {
		for name, kid := range map[string]any{"missing": nil, "empty": "", "unknown": "dify-shared-v2",
			"previous without SECRET_KEY_PREVIOUS": SignerPreviousKID, "not a string": 1, "case": "DIFY-SHARED-V1"} {
			h := stdHeader()
			if kid == nil {
				delete(h, "kid")
			} else {
				h["kid"] = kid
			}
			// Signed with the active key: only the kid is wrong.
			wantInvalid(t, k.name+": kid "+name, k.verify(s, ForgeHS256(t, sigSecret, h, k.claims(sigIat)), sigNow))
		}
		wantInvalid(t, k.name+": active kid, foreign key", k.verify(s, ForgeHS256(t, "another-key", stdHeader(), k.claims(sigIat)), sigNow))
	}
}

func sigRotation(t *testing.T, newSigner NewSignerFunc) {
	rotated := newSigner(t, sigSecret, sigPrevious)
	onlyNew := newSigner(t, sigSecret, "")
	prevHdr := stdHeader()
	prevHdr["kid"] = SignerPreviousKID
	for _, k := range sigKinds() {
		c := k.claims(sigIat)
		// Objects signed before the rotation carry the active kid.
		stWantErr(t, k.name+": active kid, previous key", k.verify(rotated, ForgeHS256(t, sigPrevious, stdHeader(), c), sigNow), nil)
		stWantErr(t, k.name+": previous kid, previous key", k.verify(rotated, ForgeHS256(t, sigPrevious, prevHdr, c), sigNow), nil)
		stWantErr(t, k.name+": active kid, active key", k.verify(rotated, ForgeHS256(t, sigSecret, stdHeader(), c), sigNow), nil)
		// The active key is not listed under the previous kid.
		wantInvalid(t, k.name+": previous kid, active key", k.verify(rotated, ForgeHS256(t, sigSecret, prevHdr, c), sigNow))
		wantInvalid(t, k.name+": previous key after SECRET_KEY_PREVIOUS is removed", k.verify(onlyNew, ForgeHS256(t, sigPrevious, stdHeader(), c), sigNow))
		unknown := stdHeader()
		unknown["kid"] = "dify-shared-v9"
		wantInvalid(t, k.name+": unknown kid, previous key", k.verify(rotated, ForgeHS256(t, sigPrevious, unknown, c), sigNow))
	}
	// A rotated signer signs with the active key only.
	tok, err := rotated.SignGrant(domain.ApprovalGrant{Issuer: sigIss, SubjectEmail: "a@b.c", SubjectIssuer: "i", UserCode: "U",
		Nonce: "n", CSRFToken: "c", IssuedAt: sigIat, ExpiresAt: sigIat.Add(time.Minute)})
	stWantErr(t, "SignGrant", err, nil)
	_, err = onlyNew.VerifyGrant(tok, sigNow)
	stWantErr(t, "grant from the rotated signer on the new key alone", err, nil)
	old := newSigner(t, sigPrevious, "")
	_, err = old.VerifyGrant(tok, sigNow)
	wantInvalid(t, "grant from the rotated signer on the old key alone", err)
}

func sigRejectsAudience(t *testing.T, newSigner NewSignerFunc) {
	s := newSigner(t, sigSecret, "")
	kinds := sigKinds()
	for _, k := range kinds {
		for _, other := range kinds {
			if other.name == k.name {
				continue
			}
			// A genuine object of another kind is never accepted as this one.
			c := other.claims(sigIat)
			wantInvalid(t, other.name+" verified as "+k.name, k.verify(s, ForgeHS256(t, sigSecret, stdHeader(), c), sigNow))
			c = k.claims(sigIat)
			c["aud"] = other.aud
			wantInvalid(t, k.name+" with aud "+other.aud, k.verify(s, ForgeHS256(t, sigSecret, stdHeader(), c), sigNow))
		}
		for name, aud := range map[string]any{"two audiences": []string{k.aud, "other"}, "empty array": []string{},
			"number": 1, "prefix": k.aud + ".x", "case": strings.ToUpper(k.aud)} {
			c := k.claims(sigIat)
			c["aud"] = aud
			wantInvalid(t, k.name+": aud "+name, k.verify(s, ForgeHS256(t, sigSecret, stdHeader(), c), sigNow))
		}
	}
}

func sigLifetime(t *testing.T, newSigner NewSignerFunc) {
	s := newSigner(t, sigSecret, "")
	for _, k := range sigKinds() {
		tok := ForgeHS256(t, sigSecret, stdHeader(), k.claims(sigIat))
		exp := sigIat.Add(k.ttl)
		stWantErr(t, k.name+" at iat", k.verify(s, tok, sigIat), nil)
		stWantErr(t, k.name+" 1 s before exp", k.verify(s, tok, exp.Add(-time.Second)), nil)
		wantInvalid(t, k.name+" at exp (no leeway)", k.verify(s, tok, exp))
		wantInvalid(t, k.name+" after exp", k.verify(s, tok, exp.Add(time.Hour)))
		wantInvalid(t, k.name+" 1 s before iat (iat in the future)", k.verify(s, tok, sigIat.Add(-time.Second)))
		c := k.claims(sigIat)
		c["exp"] = sigIat.Add(k.ttl + time.Second).Unix()
		wantInvalid(t, k.name+" living longer than its TTL", k.verify(s, ForgeHS256(t, sigSecret, stdHeader(), c), sigNow))
		c["exp"] = sigIat.Unix()
		wantInvalid(t, k.name+" with exp == iat", k.verify(s, ForgeHS256(t, sigSecret, stdHeader(), c), sigIat))
	}
}

func sigRejectsTampering(t *testing.T, newSigner NewSignerFunc) {
	s := newSigner(t, sigSecret, "")
	for _, k := range sigKinds() {
		c := k.claims(sigIat)
		tok := ForgeHS256(t, sigSecret, stdHeader(), c)
		stWantErr(t, k.name+" untouched", k.verify(s, tok, sigNow), nil)
		for name, bad := range tamper(t, sigSecret, tok, c) {
			wantInvalid(t, k.name+": "+name, k.verify(s, bad, sigNow))
		}
	}
}

func sigRejectsClaims(t *testing.T, newSigner NewSignerFunc) {
	s := newSigner(t, sigSecret, "")
	for _, k := range sigKinds() {
		for name := range k.claims(sigIat) {
			c := k.claims(sigIat)
			delete(c, name)
			wantInvalid(t, k.name+" without "+name, k.verify(s, ForgeHS256(t, sigSecret, stdHeader(), c), sigNow))
			c = k.claims(sigIat)
			c[name] = nil
			wantInvalid(t, k.name+" with "+name+" null", k.verify(s, ForgeHS256(t, sigSecret, stdHeader(), c), sigNow))
		}
		for name, v := range k.malformed {
			c := k.claims(sigIat)
			c[name] = v
			wantInvalid(t, k.name+" with malformed "+name, k.verify(s, ForgeHS256(t, sigSecret, stdHeader(), c), sigNow))
		}
		c := k.claims(sigIat)
		c["user_code"] = "ABCD\nEFGH"
		wantInvalid(t, k.name+" with a control character", k.verify(s, ForgeHS256(t, sigSecret, stdHeader(), c), sigNow))
	}
}

func sigRejectsOversized(t *testing.T, newSigner NewSignerFunc) {
	s := newSigner(t, sigSecret, "")
	for _, k := range sigKinds() {
		c := k.claims(sigIat)
		c["padding"] = strings.Repeat("p", 6*1024) // ignored claim: only the size is wrong
		tok := ForgeHS256(t, sigSecret, stdHeader(), c)
		if len(tok) < 8*1024 {
			t.Fatalf("test bug: token is %d bytes", len(tok))
		}
		wantInvalid(t, k.name+" of 8 KiB", k.verify(s, tok, sigNow))
	}
}

func sigEmailBounds(t *testing.T, newSigner NewSignerFunc) {
	s := newSigner(t, sigSecret, "")
	email := func(n int) string { return strings.Repeat("e", n-len("@corp.example")) + "@corp.example" }
	for _, tc := range []struct {
		email string
		ok    bool
	}{{email(320), true}, {"a@b", true}, {email(321), false}, {"@b", false}, {"a@", false}, {"a b@c.d", false}} {
		a := AssertionClaims(tc.email, "https://idp", "ABCD-EFGH", "n", sigIat)
		g := GrantClaims(sigIss, tc.email, "https://idp", "ABCD-EFGH", "n", "c", sigIat)
		for what, tok := range map[string]string{"assertion": ForgeHS256(t, sigSecret, stdHeader(), a), "grant": ForgeHS256(t, sigSecret, stdHeader(), g)} {
			var err error
			if what == "assertion" {
				var got domain.ExternalAssertion
				if got, err = s.VerifyAssertion(tok, sigNow); err == nil && got.Email != tc.email {
					t.Errorf("assertion email %q, want %q", got.Email, tc.email)
				}
			} else {
				_, err = s.VerifyGrant(tok, sigNow)
			}
			if tc.ok {
				stWantErr(t, what+" with a "+string(rune('0'+len(tc.email)%10))+"-ending email", err, nil)
			} else {
				wantInvalid(t, what+" with email "+tc.email[:min(len(tc.email), 12)], err)
			}
		}
	}
}

func sigSignRefuses(t *testing.T, newSigner NewSignerFunc) {
	s := newSigner(t, sigSecret, "")
	if _, err := s.SignState(domain.NewStateEnvelope("ABCD-EFGH", "", "https://cb", sigIat)); err == nil {
		t.Error("SignState signed an envelope without a nonce")
	}
	if _, err := s.SignAssertion(domain.ExternalAssertion{Email: "a@b.c", Issuer: "i", UserCode: "U", Nonce: "n",
		IssuedAt: sigIat, ExpiresAt: sigIat.Add(time.Hour)}); err == nil {
		t.Error("SignAssertion signed an assertion living past its TTL")
	}
	if _, err := s.SignGrant(domain.ApprovalGrant{Issuer: sigIss, SubjectEmail: strings.Repeat("e", 320) + "@x", SubjectIssuer: "i",
		UserCode: "U", Nonce: "n", CSRFToken: "c", IssuedAt: sigIat, ExpiresAt: sigIat.Add(time.Minute)}); err == nil {
		t.Error("SignGrant signed a grant with a 322-character email")
	}
}
