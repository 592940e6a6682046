package porttest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"hash"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
)

// SignerKID is the kid every SPEC 5 signer writes; SignerPreviousKID names
// the verify-only SECRET_KEY_PREVIOUS key.
const (
	SignerKID         = "dify-shared-v1"
	SignerPreviousKID = "dify-shared-v0"
)

// b64 is unpadded base64url, the JWS segment encoding.
func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jsonSeg encodes v as a JWS segment.
func jsonSeg(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64(b)
}

// hmacSig returns the HMAC of signing input with key under h.
func hmacSig(h func() hash.Hash, key, input string) string {
	m := hmac.New(h, []byte(key))
	m.Write([]byte(input))
	return b64(m.Sum(nil))
}

// ForgeHS256 builds a compact JWS with the given header and claims, signed
// with HMAC-SHA256 under key, using only the standard library (as another
// implementation of SPEC 5, such as the enterprise service, would).
func ForgeHS256(t testing.TB, key string, header, claims map[string]any) string {
	t.Helper()
	input := jsonSeg(t, header) + "." + jsonSeg(t, claims)
	return input + "." + hmacSig(sha256.New, key, input)
}

// stdHeader is the header a SPEC 5 signer writes.
func stdHeader() map[string]any {
	return map[string]any{"alg": "HS256", "kid": SignerKID, "typ": "JWT"}
}

// AssertionClaims returns the claims of a valid external-subject assertion
// issued at iat, as the enterprise service writes them.
func AssertionClaims(email, issuer, userCode, nonce string, iat time.Time) map[string]any {
	return map[string]any{
		"aud": domain.AudExternalAssertion, "iat": iat.Unix(), "exp": iat.Add(domain.ExternalAssertionTTL).Unix(),
		"sub_type": "external_sso", "email": email, "issuer": issuer, "user_code": userCode, "nonce": nonce,
	}
}

// ForgeAssertion signs a valid assertion with key using only the standard
// library: what the enterprise service sends to sso-complete.
func ForgeAssertion(t testing.TB, key, email, issuer, userCode, nonce string, iat time.Time) string {
	t.Helper()
	return ForgeHS256(t, key, stdHeader(), AssertionClaims(email, issuer, userCode, nonce, iat))
}

// GrantClaims returns the claims of a valid approval grant issued at iat.
func GrantClaims(iss, email, issuer, userCode, nonce, csrf string, iat time.Time) map[string]any {
	return map[string]any{
		"aud": domain.AudApprovalGrant, "iat": iat.Unix(), "exp": iat.Add(domain.ApprovalGrantTTL).Unix(),
		"iss": iss, "subject_email": email, "subject_issuer": issuer, "user_code": userCode,
		"nonce": nonce, "csrf_token": csrf,
	}
}

// AlgForgeries is algForgeries for tests at the HTTP edge: the same
// algorithm-confusion tokens a verifier's suite refuses, over claims.
func AlgForgeries(t testing.TB, key string, claims map[string]any) map[string]string {
	return algForgeries(t, key, claims)
}

// algForgeries returns tokens over claims that a key holder's HS256 verifier
// must refuse, by name: every other alg, including none and the RS/ES
// confusion (signature made with the secret as if it were the public key).
func algForgeries(t testing.TB, key string, claims map[string]any) map[string]string {
	t.Helper()
	with := func(alg string) string {
		h := stdHeader()
		h["alg"] = alg
		return jsonSeg(t, h) + "." + jsonSeg(t, claims)
	}
	out := map[string]string{}
	for _, alg := range []string{"none", "None", "NONE"} {
		out["alg "+alg+" unsigned"] = with(alg) + "."
		out["alg "+alg+" with an HS256 signature"] = with(alg) + "." + hmacSig(sha256.New, key, with(alg))
	}
	out["alg HS384"] = with("HS384") + "." + hmacSig(sha512.New384, key, with("HS384"))
	out["alg HS512"] = with("HS512") + "." + hmacSig(sha512.New, key, with("HS512"))
	out["alg hs256 (case)"] = with("hs256") + "." + hmacSig(sha256.New, key, with("hs256"))
	for _, alg := range []string{"RS256", "ES256", "PS256", "EdDSA"} {
		// A verifier that takes the header's alg and the secret as the key.
		out["alg "+alg+" keyed with the secret"] = with(alg) + "." + hmacSig(sha256.New, key, with(alg))
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	in := with("RS256")
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, rk, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	out["alg RS256 with a real RSA signature"] = in + "." + b64(sig)
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	in = with("ES256")
	sum = sha256.Sum256([]byte(in))
	esig, err := ecdsa.SignASN1(rand.Reader, ek, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	out["alg ES256 with a real ECDSA signature"] = in + "." + b64(esig)
	h := stdHeader()
	delete(h, "alg")
	in = jsonSeg(t, h) + "." + jsonSeg(t, claims)
	out["alg missing"] = in + "." + hmacSig(sha256.New, key, in)
	return out
}

// tamper returns variants of a valid token that must not verify.
func tamper(t testing.TB, key, token string, claims map[string]any) map[string]string {
	t.Helper()
	p := strings.Split(token, ".")
	flip := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	h := stdHeader()
	h["typ"] = "JOSE+JWT"
	extra := stdHeader()
	extra["crit"] = []string{"b64"}
	b64false := stdHeader()
	b64false["b64"] = false
	return map[string]string{
		"header changed, old signature":   jsonSeg(t, h) + "." + p[1] + "." + p[2],
		"header byte flipped":             flip(p[0], 3) + "." + p[1] + "." + p[2],
		"payload byte flipped":            p[0] + "." + flip(p[1], 5) + "." + p[2],
		"signature byte flipped":          p[0] + "." + p[1] + "." + flip(p[2], 4),
		"signature truncated":             p[0] + "." + p[1] + "." + p[2][:len(p[2])-2],
		"signature empty":                 p[0] + "." + p[1] + ".",
		"signature from another key":      p[0] + "." + p[1] + "." + hmacSig(sha256.New, key+"x", p[0]+"."+p[1]),
		"padded segment":                  p[0] + "." + p[1] + "=." + p[2],
		"appended segment":                token + "." + p[2],
		"two segments":                    p[0] + "." + p[1],
		"empty":                           "",
		"whitespace around":               " " + token + " ",
		"crit header, signed":             ForgeHS256(t, key, extra, claims),
		"b64=false header, signed":        ForgeHS256(t, key, b64false, claims),
		"typ other than JWT, signed":      ForgeHS256(t, key, h, claims),
		"header not an object, signed":    signRaw(key, b64([]byte(`["HS256"]`)), p[1]),
		"payload not an object, signed":   signRaw(key, p[0], b64([]byte(`"x"`))),
		"payload not JSON, signed":        signRaw(key, p[0], b64([]byte(`{"aud":`))),
		"JSON serialisation, not compact": `{"payload":"` + p[1] + `","protected":"` + p[0] + `","signature":"` + p[2] + `"}`,
	}
}

// signRaw signs two ready segments with HS256 under key.
func signRaw(key, hdr, payload string) string {
	return hdr + "." + payload + "." + hmacSig(sha256.New, key, hdr+"."+payload)
}
