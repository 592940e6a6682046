package deviceclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// Account is the signed-in account of an account token.
type Account struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// Workspace is one of the account's workspaces.
type Workspace struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// Me is the body of GET /openapi/v1/me.
type Me struct {
	SubjectType        string      `json:"subject_type"`
	SubjectEmail       string      `json:"subject_email"`
	SubjectIssuer      string      `json:"subject_issuer,omitempty"`
	Account            *Account    `json:"account"`
	Workspaces         []Workspace `json:"workspaces"`
	DefaultWorkspaceID *string     `json:"default_workspace_id"`
}

// Session is one live token of the caller (GET /openapi/v1/oauth/authorizations).
type Session struct {
	ID          string  `json:"id"`
	Prefix      string  `json:"prefix"`
	ClientID    string  `json:"client_id"`
	DeviceLabel string  `json:"device_label"`
	CreatedAt   string  `json:"created_at"`
	LastUsedAt  *string `json:"last_used_at"`
	ExpiresAt   string  `json:"expires_at"`
	Current     bool    `json:"current"`
}

// Client calls the bearer API of one server with one token.
type Client struct {
	APIBase string // e.g. https://auth.example.com/openapi/v1 (Metadata.APIBase)
	Token   string
	HTTP    *http.Client
}

// Me returns who the token belongs to. A refused token is an error matching
// ErrUnauthorized.
func (c *Client) Me(ctx context.Context) (*Me, error) {
	var me Me
	return &me, c.do(ctx, http.MethodGet, "/me", &me)
}

// Sessions lists the caller's live tokens, newest first, every page.
func (c *Client) Sessions(ctx context.Context) ([]Session, error) {
	const limit, maxPages = 200, 50
	var all []Session
	for page := 1; page <= maxPages; page++ {
		var body struct {
			HasMore bool      `json:"has_more"`
			Data    []Session `json:"data"`
		}
		q := url.Values{"page": {strconv.Itoa(page)}, "limit": {strconv.Itoa(limit)}}
		if err := c.do(ctx, http.MethodGet, "/oauth/authorizations?"+q.Encode(), &body); err != nil {
			return nil, err
		}
		all = append(all, body.Data...)
		if !body.HasMore || len(body.Data) == 0 {
			break
		}
	}
	return all, nil
}

// RevokeSelf revokes the presenting token (DELETE /oauth/authorizations/self).
func (c *Client) RevokeSelf(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/oauth/authorizations/self", nil)
}

// Revoke revokes one of the caller's sessions by id; an id the caller does
// not own is an *APIError with Status 404.
func (c *Client) Revoke(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/oauth/authorizations/"+url.PathEscape(id), nil)
}

func (c *Client) do(ctx context.Context, method, path string, into any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.APIBase+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return transportError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return readAPIError(resp)
	}
	if into == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(into); err != nil {
		return fmt.Errorf("unreadable answer to %s %s: %w", method, req.URL.Path, err)
	}
	return nil
}

// readAPIError reads either error shape of a non-2xx answer.
func readAPIError(resp *http.Response) *APIError {
	var body struct {
		Code        string `json:"code"`
		Message     string `json:"message"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body)
	e := &APIError{Status: resp.StatusCode, Code: body.Code, Message: body.Message}
	if e.Code == "" {
		e.Code, e.Message = body.Error, body.Description
	}
	return e
}
