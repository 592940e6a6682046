package httpapi_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// pkcePair is a code_verifier and its S256 challenge, computed here from
// RFC 7636 section 4.2 rather than by the code under test.
func pkcePair(seed string) (verifier, challenge string) {
	verifier = strings.Repeat(seed, 43/len(seed)+1)[:43]
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// withField sets one string field of a request's JSON body.
func withField(t *testing.T, k, v string) func(*req) {
	return func(r *req) {
		var m map[string]any
		if err := json.Unmarshal([]byte(r.body), &m); err != nil {
			t.Fatal(err)
		}
		m[k] = v
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		r.body = string(b)
	}
}

func withChallenge(challenge string) map[string]string {
	return map[string]string{"client_id": testClient, "code_challenge": challenge, "code_challenge_method": "S256"}
}

// TestPKCEStartRefusals: only S256 with a well-formed challenge is taken; a
// challenge without a method would be RFC 7636's default "plain", refused.
func TestPKCEStartRefusals(t *testing.T) {
	s := newTestServer(t)
	const path = "/openapi/v1/oauth/device/code"
	verifier, challenge := pkcePair("abc")
	for name, body := range map[string]map[string]string{
		"plain":                   {"client_id": testClient, "code_challenge": verifier, "code_challenge_method": "plain"},
		"lower-case s256":         {"client_id": testClient, "code_challenge": challenge, "code_challenge_method": "s256"},
		"unknown method":          {"client_id": testClient, "code_challenge": challenge, "code_challenge_method": "S512"},
		"challenge, no method":    {"client_id": testClient, "code_challenge": challenge},
		"method, no challenge":    {"client_id": testClient, "code_challenge_method": "S256"},
		"short challenge":         withChallenge(challenge[:42]),
		"long challenge":          withChallenge(challenge + "A"),
		"not base64url":           withChallenge("+" + challenge[1:]),
		"verifier as challenge":   withChallenge(verifier),
		"padded challenge":        withChallenge(challenge[:42] + "="),
		"challenge, empty method": {"client_id": testClient, "code_challenge": challenge, "code_challenge_method": ""},
	} {
		rec := s.postJSON(path, body)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400; body %s", name, rec.Code, rec.Body.String())
			continue
		}
		wantOAuthError(t, rec, http.StatusBadRequest, "invalid_request")
	}
	// Form-encoded, as x/oauth2 sends it.
	wantStatus(t, s.serve(req{method: http.MethodPost, path: path, ctype: formType,
		body: "client_id=" + testClient + "&code_challenge=" + challenge + "&code_challenge_method=S256"}), http.StatusOK)
}

// TestPKCEPoll: a flow started with a challenge gives its token only to a
// poll carrying the matching verifier. Missing or wrong verifiers are
// invalid_grant and change nothing, so the rightful poll right after them is
// neither slow_down nor beaten to the claim. A malformed verifier is
// invalid_request; a verifier on a flow without a challenge is invalid_grant.
func TestPKCEPoll(t *testing.T) {
	s := newTestServer(t)
	verifier, challenge := pkcePair("k9")
	dc, uc := s.startFlow(withField(t, "code_challenge", challenge), withField(t, "code_challenge_method", "S256"))
	wantStatus(t, s.decide("approve", uc, s.login("alice@example.com")), http.StatusOK)

	other, _ := pkcePair("zz")
	wantOAuthError(t, s.poll(dc, testClient), http.StatusBadRequest, "invalid_grant")
	wantOAuthError(t, s.poll(dc, testClient, withField(t, "code_verifier", other)), http.StatusBadRequest, "invalid_grant")
	wantOAuthError(t, s.poll(dc, testClient, withField(t, "code_verifier", "short")), http.StatusBadRequest, "invalid_request")
	wantOAuthError(t, s.poll(dc, "other-cli", withField(t, "code_verifier", verifier)), http.StatusBadRequest, "invalid_grant")
	m := wantStatus(t, s.poll(dc, testClient, withField(t, "code_verifier", verifier)), http.StatusOK)
	if tok, _ := m["access_token"].(string); !strings.HasPrefix(tok, "dfoa_") {
		t.Fatalf("poll with the verifier: %v", m)
	}
	wantOAuthError(t, s.poll(dc, testClient, withField(t, "code_verifier", verifier)), http.StatusBadRequest, "expired_token")

	// Without a challenge: as before, and a verifier is refused (downgrade).
	dc2, _ := s.startFlow()
	wantOAuthError(t, s.poll(dc2, testClient, withField(t, "code_verifier", verifier)), http.StatusBadRequest, "invalid_grant")
	wantOAuthError(t, s.poll(dc2, testClient), http.StatusBadRequest, "authorization_pending")
	if strings.Contains(s.logs.String(), verifier) {
		t.Fatal("the code_verifier reached the logs")
	}
}

// TestPKCERequiredClient: a client listed in OPENAPI_PKCE_REQUIRED_CLIENT_IDS
// cannot start a flow without a challenge; others still can.
func TestPKCERequiredClient(t *testing.T) {
	s := newTestServer(t, func(st *setup) { st.pkce = map[string]bool{testClient: true} })
	const path = "/openapi/v1/oauth/device/code"
	wantOAuthError(t, s.postJSON(path, map[string]string{"client_id": testClient}), http.StatusBadRequest, "invalid_request")
	_, challenge := pkcePair("r")
	wantStatus(t, s.postJSON(path, withChallenge(challenge)), http.StatusOK)

	free := newTestServer(t)
	wantStatus(t, free.postJSON(path, map[string]string{"client_id": testClient}), http.StatusOK)
}

// TestMetadataAdvertisesS256: RFC 8414 code_challenge_methods_supported.
func TestMetadataAdvertisesS256(t *testing.T) {
	s := newTestServer(t)
	m := wantStatus(t, s.get("/.well-known/oauth-authorization-server"), http.StatusOK)
	if got, _ := m["code_challenge_methods_supported"].([]any); len(got) != 1 || got[0] != "S256" {
		t.Fatalf("code_challenge_methods_supported = %v, want [S256]", m["code_challenge_methods_supported"])
	}
}
