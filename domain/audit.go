package domain

import "time"

// Audit event names: a contract, never renamed.
const (
	EventFlowApproved = "oauth.device_flow_approved"
	EventFlowDenied   = "oauth.device_flow_denied"
	EventFlowRejected = "oauth.device_flow_rejected"
	EventCrossIPPoll  = "oauth.device_code_cross_ip_poll"
	EventTokenIssued  = "oauth.token_issued"
	EventTokenExpired = "oauth.token_expired"
	EventTokenRevoked = "oauth.token_revoked"
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
}
