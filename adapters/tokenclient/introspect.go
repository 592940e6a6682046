package tokenclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxResponse bounds how much of an introspection answer is read.
const maxResponse = 64 << 10

// wireAnswer is the RFC 7662 answer devicegate sends.
type wireAnswer struct {
	Active        bool   `json:"active"`
	Scope         string `json:"scope"`
	ClientID      string `json:"client_id"`
	Username      string `json:"username"`
	Exp           int64  `json:"exp"`
	Sub           string `json:"sub"`
	SubjectType   string `json:"subject_type"`
	SubjectIssuer string `json:"subject_issuer"`
	TokenID       string `json:"token_id"`
}

// introspect asks devicegate once. It returns ErrInactive for active:false
// and an *UnavailableError for anything other than a decodable 200.
func (c *Client) introspect(ctx context.Context, token string) (Principal, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return Principal{}, &UnavailableError{Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+c.secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return Principal{}, &UnavailableError{Err: err}
	}
	defer func() {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return Principal{}, &UnavailableError{
			Status:     resp.StatusCode,
			RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.now()),
		}
	}
	var a wireAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(&a); err != nil {
		return Principal{}, &UnavailableError{Status: resp.StatusCode, Err: fmt.Errorf("decode introspection answer: %w", err)}
	}
	if !a.Active {
		return Principal{}, ErrInactive
	}
	return a.principal(), nil
}

// principal maps an active answer; sub is the account id only for accounts.
func (a wireAnswer) principal() Principal {
	p := Principal{
		TokenID:     a.TokenID,
		SubjectType: a.SubjectType,
		Email:       a.Username,
		Issuer:      a.SubjectIssuer,
		ClientID:    a.ClientID,
		Scopes:      strings.Fields(a.Scope),
	}
	if a.SubjectType == SubjectAccount {
		p.AccountID = a.Sub
	} else if p.Email == "" {
		p.Email = a.Sub
	}
	if a.Exp > 0 {
		p.ExpiresAt = time.Unix(a.Exp, 0).UTC()
	}
	return p
}
