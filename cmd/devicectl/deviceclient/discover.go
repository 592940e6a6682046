package deviceclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"
)

// GrantTypeDevice is RFC 8628's grant type.
const GrantTypeDevice = "urn:ietf:params:oauth:grant-type:device_code"

// Metadata is the part of RFC 8414 authorization-server metadata a device
// client needs.
type Metadata struct {
	Issuer                      string   `json:"issuer"`
	DeviceAuthorizationEndpoint string   `json:"device_authorization_endpoint"`
	TokenEndpoint               string   `json:"token_endpoint"`
	RevocationEndpoint          string   `json:"revocation_endpoint"`
	GrantTypesSupported         []string `json:"grant_types_supported"`
	CodeChallengeMethods        []string `json:"code_challenge_methods_supported"`
}

// NormalizeServer checks that server is an absolute http(s) URL without
// query or fragment and returns it without a trailing slash, scheme and host
// lower-cased. Plain http is accepted only for loopback hosts unless
// allowHTTP: the token would cross the network in clear.
func NormalizeServer(server string, allowHTTP bool) (string, error) {
	u, err := url.Parse(strings.TrimSpace(server))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("server %q must be an absolute http(s) URL such as https://auth.example.com", server)
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if u.Scheme == "http" && !allowHTTP && !loopback(u.Hostname()) {
		return "", fmt.Errorf("server %q uses plain http, which would send the token in clear; use https", server)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

func loopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Discover reads server's RFC 8414 metadata. server must already be
// normalised (NormalizeServer). As RFC 8414 section 3.3 requires, the
// document is refused unless its issuer is server itself, so a proxy or a
// typo cannot send the device flow to another authorization server.
func Discover(ctx context.Context, hc *http.Client, server string) (*Metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+"/.well-known/oauth-authorization-server", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach %s: %w", server, transportError(ctx, err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if apiErr := readAPIError(resp); apiErr.Is(ErrUnreachable) {
			return nil, fmt.Errorf("%s is unavailable: %w", server, apiErr)
		}
		return nil, fmt.Errorf("%s does not look like a devicegate server: %s answered %d", server, req.URL.Path, resp.StatusCode)
	}
	var md Metadata
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&md); err != nil {
		return nil, fmt.Errorf("%s: unreadable authorization-server metadata: %w", server, err)
	}
	if issuer, err := NormalizeServer(md.Issuer, true); err != nil || issuer != server {
		return nil, fmt.Errorf("%s names itself %q in its metadata; sign in with --server %s", server, md.Issuer, md.Issuer)
	}
	if !slices.Contains(md.GrantTypesSupported, GrantTypeDevice) || md.DeviceAuthorizationEndpoint == "" || md.TokenEndpoint == "" {
		return nil, fmt.Errorf("%s does not offer the device authorization grant", server)
	}
	return &md, nil
}

// SupportsPKCE reports whether the server advertises S256 PKCE.
func (m *Metadata) SupportsPKCE() bool {
	return slices.Contains(m.CodeChallengeMethods, "S256")
}

// APIBase is where the bearer API lives (/me, /oauth/authorizations).
func (m *Metadata) APIBase() string {
	return strings.TrimRight(m.Issuer, "/") + "/openapi/v1"
}

// OAuth2Config is the golang.org/x/oauth2 configuration of a public client.
// The credentials go in the form (token_endpoint_auth_methods "none"): the
// library's auto-detection would send every poll twice, the second one
// inside the interval, and earn a slow_down.
func (m *Metadata) OAuth2Config(clientID string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: clientID,
		Endpoint: oauth2.Endpoint{
			DeviceAuthURL: m.DeviceAuthorizationEndpoint,
			TokenURL:      m.TokenEndpoint,
			AuthStyle:     oauth2.AuthStyleInParams,
		},
	}
}
