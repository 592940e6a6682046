package oidcrelay_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/oidcrelay"
	"github.com/devicegate/devicegate/adapters/oidcrelay/oidctest"
	"github.com/devicegate/devicegate/domain"
)

const (
	clientID     = "devicegate"
	clientSecret = "client-secret-0123456789"
	redirectURI  = "https://api.devicegate.test/openapi/v1/oauth/device/oidc-callback"
)

// clock is a settable clock for the relay's discovery retry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *clock                   { return &clock{t: time.Now()} }
func envelope(nonce string) domain.StateEnvelope {
	return domain.NewStateEnvelope("ABCD-EFGH", nonce, "https://api.devicegate.test/openapi/v1/oauth/device/sso-complete", time.Now())
}

func newRelay(t *testing.T, p *oidctest.Provider, now func() time.Time) *oidcrelay.Relay {
	t.Helper()
	r, err := oidcrelay.New(oidcrelay.Config{Issuer: p.Issuer(), ClientID: clientID, ClientSecret: clientSecret,
		Scopes: oidcrelay.ParseScopes(""), RedirectURL: redirectURI, Key: []byte("secret-key")}, now)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// signIn runs Initiate for env and plays the browser at the provider:
// it returns the callback query the provider sent the browser back with.
func signIn(t *testing.T, r *oidcrelay.Relay, env domain.StateEnvelope) url.Values {
	t.Helper()
	to, err := r.Initiate(t.Context(), domain.SSOInitiation{State: "signed.state.envelope", Envelope: env})
	if err != nil {
		t.Fatalf("Initiate: %v", err)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(to)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), redirectURI+"?") {
		t.Fatalf("authorize: %d %s", resp.StatusCode, loc)
	}
	if loc.Query().Get("state") != "signed.state.envelope" {
		t.Fatalf("state came back as %q", loc.Query().Get("state"))
	}
	return loc.Query()
}

// TestRelaySignIn: the authorization request is a PKCE S256 OpenID request
// with the envelope as state and the default scopes; the code redeems to
// the ID token's email and the provider's issuer.
func TestRelaySignIn(t *testing.T) {
	p := oidctest.New(t, clientID, clientSecret, redirectURI)
	r := newRelay(t, p, nil)
	env := envelope("nonce-1")
	cb := signIn(t, r, env)
	q := p.LastAuthorize().Query()
	if q.Get("scope") != "openid email profile" || q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 ||
		q.Get("nonce") == "" || q.Get("nonce") == env.Nonce || strings.Contains(p.LastAuthorize().String(), clientSecret) {
		t.Fatalf("authorization request = %v", q)
	}
	id, err := r.Redeem(t.Context(), cb.Get("code"), env)
	if err != nil || id.Email != "person@corp.example" || id.Issuer != p.Issuer() {
		t.Fatalf("Redeem = %+v, %v", id, err)
	}
	// The code is one-time at the provider; a second redeem fails cleanly.
	if _, err := r.Redeem(t.Context(), cb.Get("code"), env); !errors.Is(err, domain.ErrSSOFailed) {
		t.Fatalf("second Redeem = %v, want ErrSSOFailed", err)
	}
}

// TestRelayEmailFromUserinfo: without email in the ID token the relay asks
// userinfo, whose sub must be the ID token's; email_verified false from
// either source refuses, a string "true" passes.
func TestRelayEmailFromUserinfo(t *testing.T) {
	p := oidctest.New(t, clientID, clientSecret, redirectURI)
	r := newRelay(t, p, nil)
	yes, no := true, false
	p.Set(oidctest.Behaviour{Email: "ui@corp.example", EmailInUserinfoOnly: true, EmailVerified: &yes})
	env := envelope("nonce-ui")
	if id, err := r.Redeem(t.Context(), signIn(t, r, env).Get("code"), env); err != nil || id.Email != "ui@corp.example" {
		t.Fatalf("Redeem = %+v, %v", id, err)
	}
	for name, b := range map[string]oidctest.Behaviour{
		"userinfo email_verified false": {Email: "ui@corp.example", EmailInUserinfoOnly: true, EmailVerified: &no},
		"userinfo for another sub":      {Email: "ui@corp.example", EmailInUserinfoOnly: true, UserinfoOtherSub: true},
		"no email anywhere":             {EmailInUserinfoOnly: true},
	} {
		p.Set(b)
		env := envelope("nonce-" + name)
		if _, err := r.Redeem(t.Context(), signIn(t, r, env).Get("code"), env); !errors.Is(err, domain.ErrSSOFailed) {
			t.Errorf("%s: Redeem = %v, want ErrSSOFailed", name, err)
		}
	}
}

// TestRelayRefusals: every ID-token fault, a code of another sign-in (its
// PKCE verifier differs), a bad code and a wrong client secret are
// ErrSSOFailed, and no error text carries the client secret or the code.
func TestRelayRefusals(t *testing.T) {
	p := oidctest.New(t, clientID, clientSecret, redirectURI)
	r := newRelay(t, p, nil)
	no := false
	for name, b := range map[string]oidctest.Behaviour{
		"wrong nonce":          {Email: "a@corp.example", WrongNonce: true},
		"wrong audience":       {Email: "a@corp.example", WrongAudience: true},
		"wrong issuer":         {Email: "a@corp.example", WrongIssuer: true},
		"expired":              {Email: "a@corp.example", Expired: true},
		"foreign key":          {Email: "a@corp.example", ForeignKey: true},
		"email_verified false": {Email: "a@corp.example", EmailVerified: &no},
	} {
		t.Run(name, func(t *testing.T) {
			p.Set(b)
			env := envelope("nonce-" + name)
			code := signIn(t, r, env).Get("code")
			_, err := r.Redeem(t.Context(), code, env)
			refused(t, err, code)
		})
	}
	p.Set(oidctest.Behaviour{Email: "a@corp.example"})
	t.Run("code of another sign-in", func(t *testing.T) {
		code := signIn(t, r, envelope("nonce-A")).Get("code")
		_, err := r.Redeem(t.Context(), code, envelope("nonce-B"))
		refused(t, err, code)
	})
	t.Run("bad code", func(t *testing.T) {
		_, err := r.Redeem(t.Context(), "not-a-code", envelope("nonce-C"))
		refused(t, err, "not-a-code")
	})
	t.Run("wrong client secret", func(t *testing.T) {
		bad, err := oidcrelay.New(oidcrelay.Config{Issuer: p.Issuer(), ClientID: clientID, ClientSecret: "wrong-secret",
			Scopes: []string{"openid", "email"}, RedirectURL: redirectURI, Key: []byte("secret-key")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		env := envelope("nonce-D")
		code := signIn(t, bad, env).Get("code")
		_, err = bad.Redeem(t.Context(), code, env)
		refused(t, err, "wrong-secret")
	})
}

func refused(t *testing.T, err error, secret string) {
	t.Helper()
	if !errors.Is(err, domain.ErrSSOFailed) {
		t.Fatalf("err = %v, want ErrSSOFailed", err)
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), clientSecret) {
		t.Fatalf("error text carries a secret: %v", err)
	}
}

// TestRelayLazyDiscovery: a provider that is down makes Initiate fail with
// ErrSSOInitiateFailed (and Redeem with ErrSSOFailed); once it is back, the
// next request after the retry pause discovers it and works.
func TestRelayLazyDiscovery(t *testing.T) {
	p := oidctest.New(t, clientID, clientSecret, redirectURI)
	c := newClock()
	r := newRelay(t, p, c.now)
	p.SetDown(true)
	env := envelope("nonce-down")
	if _, err := r.Initiate(t.Context(), domain.SSOInitiation{State: "s", Envelope: env}); !errors.Is(err, domain.ErrSSOInitiateFailed) {
		t.Fatalf("Initiate while down = %v", err)
	}
	if _, err := r.Redeem(t.Context(), "code", env); !errors.Is(err, domain.ErrSSOFailed) {
		t.Fatalf("Redeem while down = %v", err)
	}
	p.SetDown(false)
	c.advance(time.Minute)
	cb := signIn(t, r, env)
	if id, err := r.Redeem(t.Context(), cb.Get("code"), env); err != nil || id.Issuer != p.Issuer() {
		t.Fatalf("after recovery: %+v, %v", id, err)
	}
	// Known metadata is kept: the provider's discovery going down later does not matter.
	p.SetDown(true)
	if _, err := r.Initiate(t.Context(), domain.SSOInitiation{State: "s", Envelope: env}); err != nil {
		t.Fatalf("Initiate with discovered metadata: %v", err)
	}
}

// TestNewRefusesIncompleteConfig: every required field, and openid in the scopes.
func TestNewRefusesIncompleteConfig(t *testing.T) {
	full := oidcrelay.Config{Issuer: "https://idp", ClientID: "c", ClientSecret: "s", Scopes: []string{"openid"},
		RedirectURL: redirectURI, Key: []byte("k")}
	if _, err := oidcrelay.New(full, nil); err != nil {
		t.Fatal(err)
	}
	for _, mutate := range []func(*oidcrelay.Config){
		func(c *oidcrelay.Config) { c.Issuer = "" }, func(c *oidcrelay.Config) { c.ClientID = "" },
		func(c *oidcrelay.Config) { c.ClientSecret = "" }, func(c *oidcrelay.Config) { c.RedirectURL = "" },
		func(c *oidcrelay.Config) { c.Key = nil }, func(c *oidcrelay.Config) { c.Scopes = []string{"email"} },
	} {
		c := full
		mutate(&c)
		if _, err := oidcrelay.New(c, nil); err == nil {
			t.Errorf("New(%+v) = nil error", c)
		}
	}
	if got := oidcrelay.ParseScopes(" openid,email  groups "); strings.Join(got, " ") != "openid email groups" {
		t.Fatalf("ParseScopes = %q", got)
	}
}
