package oidcrelay

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/devicegate/devicegate/domain"
)

// DefaultScopes is OIDC_SCOPES when unset.
const DefaultScopes = "openid email profile"

// Timeout bounds each call to the provider (discovery, token, JWKS, userinfo).
const Timeout = 10 * time.Second

// RetryPause is how long a failed discovery is remembered before a request
// tries again, so a provider that is down is not hammered by every sign-in
// attempt (requests in the pause fail at once).
const RetryPause = 2 * time.Second

// Config is the relay's configuration (OIDC_* and the callback URL built
// from CONSOLE_API_URL).
type Config struct {
	Issuer       string   // OIDC_ISSUER, exactly as the provider's discovery names itself
	ClientID     string   // OIDC_CLIENT_ID
	ClientSecret string   // OIDC_CLIENT_SECRET
	Scopes       []string // OIDC_SCOPES; must hold "openid"
	RedirectURL  string   // <CONSOLE_API_URL>/openapi/v1/oauth/device/oidc-callback
	// Key derives the per-sign-in PKCE verifier and ID-token nonce (see
	// Relay); SECRET_KEY's bytes. It must not be empty.
	Key []byte
}

// Relay is the ports.SSOGateway and ports.SSORelay of an OpenID provider.
//
// Where the PKCE verifier and the nonce live: neither is stored. Both are
// derived, per sign-in, as HMAC-SHA256 under a key derived from SECRET_KEY
// of the state envelope's nonce (16 fresh random bytes per sso-initiate), so
// they are unguessable without SECRET_KEY, never leave the server except to
// the provider (the verifier only to its token endpoint), and are the same
// on every instance with no shared storage and no cookie that a browser
// could lose, block or carry to another path. Single use is the caller's:
// the callback reserves the envelope nonce in the nonce store (SPEC 5's
// one-time reservations, Redis when configured) before Redeem runs, and the
// envelope expires after 900 s. A cookie would additionally tie the callback
// to the browser that started it; in this flow that buys little, because the
// person still has to approve explicitly on /device with the approval-grant
// cookie and its CSRF token, in the browser that completed the sign-in.
//
// Discovery is lazy: the provider's metadata is fetched on first use and
// kept; a failure answers this request (sso-initiate 502, callback
// sso_failed) and is retried by a later one, so a provider that is down when
// devicegate starts never keeps it from starting or from recovering.
type Relay struct {
	cfg    Config
	key    []byte
	client *http.Client
	now    func() time.Time

	mu       sync.Mutex
	provider *oidc.Provider
	failedAt time.Time
	lastErr  error
}

// New returns a relay for cfg. Redirects are not followed on back-channel
// calls: the client secret must not travel to another address.
func New(cfg Config, now func() time.Time) (*Relay, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.ClientSecret == "" || cfg.RedirectURL == "" || len(cfg.Key) == 0 {
		return nil, errors.New("oidcrelay: issuer, client id, client secret, redirect URL and key are required")
	}
	if !hasScope(cfg.Scopes, oidc.ScopeOpenID) {
		return nil, errors.New("oidcrelay: scopes must include openid")
	}
	if now == nil {
		now = time.Now
	}
	m := hmac.New(sha256.New, cfg.Key)
	m.Write([]byte("devicegate/oidcrelay/v1"))
	return &Relay{cfg: cfg, key: m.Sum(nil), now: now, client: &http.Client{Timeout: Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}, nil
}

// Issuer returns the provider's issuer URL (OIDC_ISSUER).
func (r *Relay) Issuer() string { return r.cfg.Issuer }

// Discover fetches the provider's metadata if it is not yet known. It is
// safe to call concurrently and is what every request does first.
func (r *Relay) Discover(ctx context.Context) (*oidc.Provider, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.provider != nil {
		return r.provider, nil
	}
	if !r.failedAt.IsZero() && r.now().Sub(r.failedAt) < RetryPause {
		return nil, fmt.Errorf("discovery failed recently: %w", r.lastErr)
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, r.client), Timeout)
	defer cancel()
	p, err := oidc.NewProvider(ctx, r.cfg.Issuer)
	if err != nil {
		r.failedAt, r.lastErr = r.now(), err
		return nil, fmt.Errorf("discovery of %s: %w", r.cfg.Issuer, err)
	}
	r.provider, r.failedAt, r.lastErr = p, time.Time{}, nil
	return p, nil
}

// Initiate returns the provider's authorization URL for the sign-in of
// in.Envelope: state is the signed envelope itself (so the callback learns
// the user code and nonce from a value only devicegate can sign), with a
// PKCE S256 challenge and a nonce derived from the envelope's nonce.
// Returns domain.ErrSSOInitiateFailed (wrapped) if discovery fails.
func (r *Relay) Initiate(ctx context.Context, in domain.SSOInitiation) (string, error) {
	p, err := r.Discover(ctx)
	if err != nil {
		return "", fmt.Errorf("%w: %v", domain.ErrSSOInitiateFailed, err) //nolint:errorlint // the cause is text only, so the error table classifies by the sentinel alone
	}
	verifier, nonce := r.derive(in.Envelope.Nonce)
	return r.oauth(p).AuthCodeURL(in.State, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)), nil
}

// Redeem exchanges code (with the PKCE verifier and the client credentials),
// verifies the ID token (signature, issuer, audience, expiry, nonce), and
// returns its email, from the ID token or else the userinfo endpoint, with
// the provider's issuer. An email the provider marks email_verified: false
// is refused. Every failure is domain.ErrSSOFailed (wrapped).
func (r *Relay) Redeem(ctx context.Context, code string, env domain.StateEnvelope) (domain.SSOIdentity, error) {
	id, err := r.redeem(ctx, code, env)
	if err != nil {
		return domain.SSOIdentity{}, fmt.Errorf("%w: %v", domain.ErrSSOFailed, err) //nolint:errorlint // the cause is text only, so the error table classifies by the sentinel alone
	}
	return id, nil
}

func (r *Relay) redeem(ctx context.Context, code string, env domain.StateEnvelope) (domain.SSOIdentity, error) {
	p, err := r.Discover(ctx)
	if err != nil {
		return domain.SSOIdentity{}, err
	}
	ctx = oidc.ClientContext(context.WithValue(ctx, oauth2.HTTPClient, r.client), r.client)
	verifier, nonce := r.derive(env.Nonce)
	tok, err := r.oauth(p).Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return domain.SSOIdentity{}, fmt.Errorf("token exchange: %s", exchangeReason(err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return domain.SSOIdentity{}, errors.New("the token response has no id_token")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: r.cfg.ClientID, Now: r.now}).Verify(ctx, raw)
	if err != nil {
		return domain.SSOIdentity{}, fmt.Errorf("id token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return domain.SSOIdentity{}, errors.New("id token: nonce does not match this sign-in")
	}
	email, err := r.email(ctx, p, idt, tok)
	if err != nil {
		return domain.SSOIdentity{}, err
	}
	return domain.SSOIdentity{Email: email, Issuer: idt.Issuer}, nil
}

// claims are the ID token's and userinfo's claims the relay reads.
// email_verified is a pointer: absent means the provider does not say.
type claims struct {
	Subject       string        `json:"sub"`
	Email         string        `json:"email"`
	EmailVerified *flexibleBool `json:"email_verified"`
}

// email returns the verified email of the ID token, or else of the
// userinfo endpoint (whose sub must be the ID token's, OpenID Connect Core 5.3.2).
func (r *Relay) email(ctx context.Context, p *oidc.Provider, idt *oidc.IDToken, tok *oauth2.Token) (string, error) {
	var c claims
	if err := idt.Claims(&c); err != nil {
		return "", fmt.Errorf("id token claims: %w", err)
	}
	if c.Email == "" {
		if p.UserInfoEndpoint() == "" {
			return "", errors.New("the ID token has no email and the provider has no userinfo endpoint")
		}
		ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return "", fmt.Errorf("userinfo: %w", err)
		}
		c = claims{}
		if err := ui.Claims(&c); err != nil {
			return "", fmt.Errorf("userinfo claims: %w", err)
		}
		if c.Subject != idt.Subject {
			return "", errors.New("userinfo: sub differs from the ID token's")
		}
	}
	if c.Email == "" {
		return "", errors.New("the provider sent no email (is the email scope granted?)")
	}
	if c.EmailVerified != nil && !bool(*c.EmailVerified) {
		return "", errors.New("the provider says the email is not verified")
	}
	return c.Email, nil
}

// oauth is the OAuth 2.0 client configuration for provider p.
func (r *Relay) oauth(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: r.cfg.ClientID, ClientSecret: r.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: r.cfg.RedirectURL, Scopes: r.cfg.Scopes}
}

// derive returns the PKCE verifier and the ID-token nonce of the sign-in
// whose envelope nonce is envNonce (see Relay). The verifier is 43
// characters of base64url, the shortest RFC 7636 allows, carrying 256 bits.
func (r *Relay) derive(envNonce string) (verifier, nonce string) {
	mac := func(label string) string {
		m := hmac.New(sha256.New, r.key)
		m.Write([]byte(label))
		m.Write([]byte{0})
		m.Write([]byte(envNonce))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	return mac("pkce-verifier"), mac("id-token-nonce")
}

// exchangeReason describes a failed code exchange by the provider's error
// code only (the response body may be long or odd).
func exchangeReason(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return fmt.Sprintf("provider answered %d %.64q", status, re.ErrorCode)
	}
	return err.Error()
}

func hasScope(scopes []string, want string) bool {
	for _, s := range scopes {
		if s == want {
			return true
		}
	}
	return false
}

// ParseScopes splits OIDC_SCOPES (spaces or commas); empty is DefaultScopes.
func ParseScopes(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
	if len(f) == 0 {
		return strings.Fields(DefaultScopes)
	}
	return f
}
