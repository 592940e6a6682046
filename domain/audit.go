package domain

import "time"

// Audit event names: a contract, never renamed.
const (
	EventFlowApproved = "oauth.device_flow_approved"
	EventFlowDenied   = "oauth.device_flow_denied"
	EventFlowRejected = "oauth.device_flow_rejected"
	EventCrossIPPoll  = "oauth.device_code_cross_ip_poll"
	EventTokenIssued  = "oauth.token_issued"  //nolint:gosec // G101: an event name, not a credential
	EventTokenExpired = "oauth.token_expired" //nolint:gosec // G101: an event name, not a credential
	EventTokenRevoked = "oauth.token_revoked" //nolint:gosec // G101: an event name, not a credential
)

// Actors of an audit event: who caused it when it was not the subject's own
// request. Empty means the request's own caller.
const (
	// ActorOperator is an operator at the command line (`devicegate tokens
	// revoke`, `devicegate accounts disable`).
	ActorOperator = "operator"
	// ActorSystem is the service itself (a token found live for an account
	// that is no longer active is revoked on sight).
	ActorSystem = "system"
)

// AuditEvent is one audit record. It never carries a device code, user code,
// token, token hash or cookie.
type AuditEvent struct {
	Name          string
	At            time.Time
	TokenID       string
	TokenPrefix   string // the token kind's prefix (dfoa_, dfoe_), never the token
	SubjectType   SubjectType
	SubjectEmail  string
	SubjectIssuer string
	AccountID     string
	WorkspaceID   string
	ClientID      string
	DeviceLabel   string
	Scopes        []string
	ExpiresAt     time.Time
	Rotated       *bool
	RequestID     string
	Detail        string
	Actor         string // ActorOperator, ActorSystem, or "" for the caller itself
}
