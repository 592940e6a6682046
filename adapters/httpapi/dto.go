package httpapi

import (
	"time"

	"github.com/devicegate/devicegate/domain"
)

// wireTimeFormat is how every timestamp goes on the wire: RFC 3339, UTC, whole seconds.
const wireTimeFormat = "2006-01-02T15:04:05Z"

func wireTime(t time.Time) string { return t.UTC().Format(wireTimeFormat) }

// wireTimePtr is wireTime, or null for the zero time.
func wireTimePtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := wireTime(t)
	return &s
}

// nullable returns nil for "" so the field encodes as null.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// deviceCodeResponse is the 200 body of POST /oauth/device/code (SPEC 2.2).
type deviceCodeResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

// accountDTO is an account on the wire.
type accountDTO struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// workspaceDTO is a workspace in token and /me bodies.
type workspaceDTO struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// profileWorkspaceDTO is a workspace in the console profile (with the current flag).
type profileWorkspaceDTO struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Role    string `json:"role"`
	Current bool   `json:"current"`
}

// workspaces converts to the wire list; never nil, so it encodes as [].
func workspaces(ws []domain.Workspace) []workspaceDTO {
	out := make([]workspaceDTO, 0, len(ws))
	for _, w := range ws {
		out = append(out, workspaceDTO{ID: w.ID, Name: w.Name, Role: w.Role})
	}
	return out
}

// tokenResponse is the 200 body of a successful poll (SPEC 2.3): the
// reference CLI's fields plus RFC 6749's.
type tokenResponse struct {
	AccessToken        string         `json:"access_token"`
	TokenType          string         `json:"token_type"`
	ExpiresIn          int64          `json:"expires_in"`
	Token              string         `json:"token"`
	ExpiresAt          string         `json:"expires_at"`
	TokenID            string         `json:"token_id"`
	SubjectType        string         `json:"subject_type"`
	SubjectEmail       string         `json:"subject_email,omitempty"`
	SubjectIssuer      string         `json:"subject_issuer,omitempty"`
	Account            *accountDTO    `json:"account"`
	Workspaces         []workspaceDTO `json:"workspaces"`
	DefaultWorkspaceID *string        `json:"default_workspace_id"`
}

// lookupResponse is the body of GET /oauth/device/lookup (SPEC 2.4).
type lookupResponse struct {
	Valid            bool    `json:"valid"`
	ExpiresRemaining int     `json:"expires_in_remaining"`
	ClientID         *string `json:"client_id"`
	DeviceLabel      string  `json:"device_label,omitempty"`
	// The request details below go only to a console session (SPEC 8): when
	// the request was made and the coarse networks (never an address) of the
	// requesting client and of the approver, for the page's mismatch warning.
	CreatedAt       string `json:"created_at,omitempty"`
	RequestNetwork  string `json:"request_network,omitempty"`
	ApproverNetwork string `json:"approver_network,omitempty"`
}

// statusResponse is {"status": "..."} (approve, deny, revoke).
type statusResponse struct {
	Status string `json:"status"`
}

// meResponse is the body of GET /me (SPEC 3.5).
type meResponse struct {
	SubjectType        string         `json:"subject_type"`
	SubjectEmail       string         `json:"subject_email"`
	SubjectIssuer      string         `json:"subject_issuer,omitempty"`
	Account            *accountDTO    `json:"account"`
	Workspaces         []workspaceDTO `json:"workspaces"`
	DefaultWorkspaceID *string        `json:"default_workspace_id"`
}

// authorizationDTO is one live row in GET /oauth/authorizations.
type authorizationDTO struct {
	ID          string  `json:"id"`
	Prefix      string  `json:"prefix"`
	ClientID    string  `json:"client_id"`
	DeviceLabel string  `json:"device_label"`
	CreatedAt   string  `json:"created_at"`
	LastUsedAt  *string `json:"last_used_at"`
	ExpiresAt   string  `json:"expires_at"`
	Current     bool    `json:"current"`
}

// authorizationsResponse is one page of GET /oauth/authorizations.
type authorizationsResponse struct {
	Page    int                `json:"page"`
	Limit   int                `json:"limit"`
	Total   int                `json:"total"`
	HasMore bool               `json:"has_more"`
	Data    []authorizationDTO `json:"data"`
}

// introspectionResponse is the RFC 7662 answer; inactive tokens carry only active=false.
type introspectionResponse struct {
	Active        bool   `json:"active"`
	Scope         string `json:"scope,omitempty"`
	ClientID      string `json:"client_id,omitempty"`
	Username      string `json:"username,omitempty"`
	TokenType     string `json:"token_type,omitempty"`
	Exp           int64  `json:"exp,omitempty"`
	Sub           string `json:"sub,omitempty"`
	Iss           string `json:"iss,omitempty"`
	SubjectType   string `json:"subject_type,omitempty"`
	SubjectIssuer string `json:"subject_issuer,omitempty"`
	TokenID       string `json:"token_id,omitempty"`
}

// metadataResponse is the RFC 8414 authorization-server metadata.
type metadataResponse struct {
	Issuer                            string   `json:"issuer"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint,omitempty"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	RevocationEndpointAuthMethods     []string `json:"revocation_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
}

// loginResponse is the 200 body of POST /console/api/login.
type loginResponse struct {
	Result    string     `json:"result"`
	CSRFToken string     `json:"csrf_token"`
	Account   accountDTO `json:"account"`
}

// profileResponse is the body of GET /console/api/account/profile.
type profileResponse struct {
	ID                 string                `json:"id"`
	Email              string                `json:"email"`
	Name               string                `json:"name"`
	Workspaces         []profileWorkspaceDTO `json:"workspaces"`
	DefaultWorkspaceID *string               `json:"default_workspace_id"`
}

// readyResponse is the 200 body of GET /readyz.
type readyResponse struct {
	Status   string            `json:"status"`
	Backends map[string]string `json:"backends"`
}

// notReadyResponse is the 503 body of GET /readyz: the canonical error plus
// each backend's state (names only; the causes go to the log).
type notReadyResponse struct {
	canonicalError
	Backends map[string]string `json:"backends"`
}
