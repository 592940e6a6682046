// Package oidctest is an in-process OpenID provider for tests of the
// OpenID Connect relay: discovery, a JWKS of RS256 keys generated at start,
// an authorize endpoint that signs the person in at once (or refuses), a
// token endpoint that checks the client credentials, the redirect URI, the
// one-time code and the PKCE verifier, and a userinfo endpoint. Each sign-in
// can be made to go wrong in one way (Behaviour). Standard library only.
package oidctest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Behaviour is how the provider answers the next sign-ins. The zero value
// (with Email set) is a well-behaved provider putting a verified email in
// the ID token.
type Behaviour struct {
	Email string
	// EmailVerified is the email_verified claim; nil leaves it out.
	EmailVerified *bool
	// EmailInUserinfoOnly leaves email out of the ID token (userinfo has it).
	EmailInUserinfoOnly bool
	// Deny makes authorize answer error=access_denied.
	Deny bool
	// ID-token faults.
	WrongNonce, WrongAudience, WrongIssuer, Expired, ForeignKey bool
	// UserinfoOtherSub makes userinfo answer for another subject.
	UserinfoOtherSub bool
}

// Provider is the mock OpenID provider.
type Provider struct {
	t            *testing.T
	Server       *httptest.Server
	ClientID     string
	ClientSecret string
	RedirectURI  string // the only redirect URI registered

	key, foreign *rsa.PrivateKey

	mu            sync.Mutex
	b             Behaviour
	codes         map[string]grant // code -> the authorization it stands for
	tokens        map[string]Behaviour
	tokenRequests int
	down          bool
	authURL       string // the last authorize request's URL
}

type grant struct {
	challenge, nonce, redirect string
	b                          Behaviour
}

// Subject is the sub of every signed-in person.
const Subject = "user-4711"

// New starts a provider for a confidential client with redirectURI.
func New(t *testing.T, clientID, clientSecret, redirectURI string) *Provider {
	t.Helper()
	p := &Provider{t: t, ClientID: clientID, ClientSecret: clientSecret, RedirectURI: redirectURI,
		key: newKey(t), foreign: newKey(t), codes: map[string]grant{}, tokens: map[string]Behaviour{},
		b: Behaviour{Email: "person@corp.example"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /userinfo", p.userinfo)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			http.Error(w, "provider is down", http.StatusServiceUnavailable)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Server.Close)
	return p
}

func newKey(t *testing.T) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.Server.URL }

// Set replaces the behaviour for the next sign-ins.
func (p *Provider) Set(b Behaviour) { p.mu.Lock(); p.b = b; p.mu.Unlock() }

// SetDown makes every endpoint answer 503 (down) or serve again.
func (p *Provider) SetDown(down bool) { p.mu.Lock(); p.down = down; p.mu.Unlock() }

// TokenRequests counts the token endpoint's requests, accepted or not.
func (p *Provider) TokenRequests() int { p.mu.Lock(); defer p.mu.Unlock(); return p.tokenRequests }

// LastAuthorize is the URL of the last authorize request.
func (p *Provider) LastAuthorize() *url.URL {
	p.mu.Lock()
	defer p.mu.Unlock()
	u, _ := url.Parse(p.authURL)
	return u
}

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 200, map[string]any{"issuer": p.Issuer(), "authorization_endpoint": p.Issuer() + "/authorize",
		"token_endpoint": p.Issuer() + "/token", "jwks_uri": p.Issuer() + "/jwks", "userinfo_endpoint": p.Issuer() + "/userinfo",
		"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"}})
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	pub := p.key.PublicKey
	writeJSON(w, 200, map[string]any{"keys": []map[string]string{{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "k1",
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes())}}})
}

// authorize signs the person in at once and sends the browser back to the
// registered redirect URI with a one-time code (or error=access_denied).
// A request that is not a PKCE S256 OpenID request for this client is a 400,
// as a real provider would show an error page rather than redirect.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != p.ClientID || q.Get("redirect_uri") != p.RedirectURI || q.Get("response_type") != "code" ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" ||
		q.Get("state") == "" || !strings.Contains(" "+q.Get("scope")+" ", " openid ") {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.authURL = r.URL.String()
	back := url.Values{"state": {q.Get("state")}}
	if p.b.Deny {
		back.Set("error", "access_denied")
		back.Set("error_description", "The resource owner denied the request <script>")
	} else {
		code := randomString(p.t)
		p.codes[code] = grant{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirect: q.Get("redirect_uri"), b: p.b}
		back.Set("code", code)
	}
	http.Redirect(w, r, p.RedirectURI+"?"+back.Encode(), http.StatusFound)
}

// token redeems a code once, for this client with its secret (basic or
// post), the same redirect URI, and the verifier of the code's challenge.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.tokenRequests++
	p.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		oauthError(w, 400, "invalid_request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.ClientSecret)) != 1 {
		oauthError(w, 401, "invalid_client")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		oauthError(w, 400, "unsupported_grant_type")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code")) // one use, whatever the outcome
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !ok || g.redirect != r.PostForm.Get("redirect_uri") || b64(sum[:]) != g.challenge {
		oauthError(w, 400, "invalid_grant")
		return
	}
	access := randomString(p.t)
	p.tokens[access] = g.b
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, 200, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 300,
		"id_token": p.idToken(g)})
}

// idToken signs the ID token of g, with g's fault if any.
func (p *Provider) idToken(g grant) string {
	now := time.Now()
	c := map[string]any{"iss": p.Issuer(), "sub": Subject, "aud": p.ClientID, "nonce": g.nonce,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	if !g.b.EmailInUserinfoOnly {
		c["email"] = g.b.Email
		if g.b.EmailVerified != nil {
			c["email_verified"] = *g.b.EmailVerified
		}
	}
	switch {
	case g.b.WrongNonce:
		c["nonce"] = "another-sign-in"
	case g.b.WrongAudience:
		c["aud"] = "another-client"
	case g.b.WrongIssuer:
		c["iss"] = "https://evil.example"
	case g.b.Expired:
		c["iat"], c["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	}
	key := p.key
	if g.b.ForeignKey {
		key = p.foreign
	}
	return SignRS256(p.t, key, "k1", c)
}

func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	access, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	b, known := p.tokens[access]
	p.mu.Unlock()
	if !ok || !known {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	c := map[string]any{"sub": Subject, "email": b.Email}
	if b.UserinfoOtherSub {
		c["sub"] = "someone-else"
	}
	if b.EmailVerified != nil {
		c["email_verified"] = *b.EmailVerified
	}
	writeJSON(w, 200, c)
}

// SignRS256 signs claims as a compact RS256 JWS with key and kid.
func SignRS256(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	hdr, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": kid, "typ": "JWT"})
	body, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	input := b64(hdr) + "." + b64(body)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func randomString(t *testing.T) string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b64(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code})
}
