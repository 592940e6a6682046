package deviceclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"
)

// Token is what a successful sign-in leaves: the bearer token and who it
// belongs to. It is what Store keeps, one per server.
type Token struct {
	Server       string    `json:"server"`
	APIBase      string    `json:"api_base"`
	ClientID     string    `json:"client_id"`
	DeviceLabel  string    `json:"device_label,omitempty"`
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type"`
	ExpiresAt    time.Time `json:"expires_at"`
	TokenID      string    `json:"token_id,omitempty"`
	SubjectType  string    `json:"subject_type,omitempty"`
	SubjectEmail string    `json:"subject_email,omitempty"`
	Account      *Account  `json:"account,omitempty"`
	ObtainedAt   time.Time `json:"obtained_at"`
}

// Login is one device authorization in progress: show Auth.UserCode and
// Auth.VerificationURI(Complete) to the user, then call Wait.
type Login struct {
	Server      string
	ClientID    string
	DeviceLabel string
	PKCE        bool // an S256 challenge was sent (the server advertised it)
	Auth        *oauth2.DeviceAuthResponse

	md       *Metadata
	config   *oauth2.Config
	verifier string
	hc       *http.Client
	pace     *pacer
}

// StartLogin asks md's server for a device code for clientID, labelled
// label (the server's default label when empty), with PKCE when the server
// advertises S256.
func StartLogin(ctx context.Context, hc *http.Client, md *Metadata, clientID, label string) (*Login, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	l := &Login{Server: md.Issuer, ClientID: clientID, DeviceLabel: label, md: md, config: md.OAuth2Config(clientID), hc: hc}
	var opts []oauth2.AuthCodeOption
	if label != "" {
		opts = append(opts, oauth2.SetAuthURLParam("device_label", label))
	}
	if md.SupportsPKCE() {
		l.PKCE, l.verifier = true, oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(l.verifier))
	}
	da, err := l.config.DeviceAuth(l.clientContext(ctx), opts...)
	if err != nil {
		return nil, l.classify(ctx, err)
	}
	l.Auth = da
	interval := time.Duration(da.Interval) * time.Second
	if interval <= 0 {
		interval = 5 * time.Second // RFC 8628 section 3.2's default, as the library uses
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	l.pace = &pacer{next: next, tokenURL: l.config.Endpoint.TokenURL, interval: interval, lastDone: time.Now()}
	paced := *hc
	paced.Transport = l.pace
	l.hc = &paced
	return l, nil
}

func (l *Login) clientContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, l.hc)
}

// PollInterval is the current time between polls (it grows with each
// slow_down the server answers) and how many slow_downs it answered.
func (l *Login) PollInterval() (time.Duration, int) {
	return l.pace.state()
}

// Wait polls the token endpoint until the user approves (the token), denies
// (ErrDenied) or lets the code expire (ErrExpired), honouring the interval
// and every slow_down (golang.org/x/oauth2 adds 5 s per slow_down). A
// cancelled ctx returns ctx.Err(): nothing was minted for this client.
func (l *Login) Wait(ctx context.Context) (*Token, error) {
	var opts []oauth2.AuthCodeOption
	if l.PKCE {
		opts = append(opts, oauth2.VerifierOption(l.verifier))
	}
	tok, err := l.config.DeviceAccessToken(l.clientContext(ctx), l.Auth, opts...)
	if err != nil {
		return nil, l.classify(ctx, err)
	}
	t := &Token{
		Server: l.Server, APIBase: l.md.APIBase(), ClientID: l.ClientID, DeviceLabel: l.DeviceLabel,
		AccessToken: tok.AccessToken, TokenType: tok.TokenType, ExpiresAt: tok.Expiry.UTC(),
		ObtainedAt: time.Now().UTC().Truncate(time.Second),
	}
	t.TokenID, _ = tok.Extra("token_id").(string)
	t.SubjectType, _ = tok.Extra("subject_type").(string)
	t.SubjectEmail, _ = tok.Extra("subject_email").(string)
	if raw, ok := tok.Extra("account").(map[string]any); ok {
		b, _ := json.Marshal(raw)
		var a Account
		if json.Unmarshal(b, &a) == nil {
			t.Account = &a
			if t.SubjectEmail == "" {
				t.SubjectEmail = a.Email
			}
		}
	}
	return t, nil
}

// classify turns golang.org/x/oauth2's errors into this package's.
func (l *Login) classify(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err() // interrupted by the caller
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		switch re.ErrorCode {
		case "access_denied":
			return ErrDenied
		case "expired_token":
			return ErrExpired
		}
		e := &APIError{Code: re.ErrorCode, Message: re.ErrorDescription}
		if re.Response != nil {
			e.Status = re.Response.StatusCode
		}
		if e.Code == "" { // the canonical shape (429, 503): {"code","message"}
			var body struct{ Code, Message string }
			if json.Unmarshal(re.Body, &body) == nil {
				e.Code, e.Message = body.Code, body.Message
			}
		}
		return e
	}
	// DeviceAccessToken stops at the code's expiry with its own deadline.
	if errors.Is(err, context.DeadlineExceeded) && l.Auth != nil && !l.Auth.Expiry.IsZero() && !time.Now().Before(l.Auth.Expiry) {
		return ErrExpired
	}
	if isURLError(err) {
		return transportError(ctx, err)
	}
	return fmt.Errorf("device authorization: %w", err)
}
