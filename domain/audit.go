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

// AuditField is one named field of an audit record, as sinks write it.
type AuditField struct {
	Key string
	// Value is a string, a []string (scopes) or a bool (rotated).
	Value any
}

// Fields returns the event's set fields in a fixed order, with the
// names every sink uses (SPEC 6); empty fields are left out. The name is
// not among them (sinks write it as event=<name>).
func (e AuditEvent) Fields() []AuditField {
	fs := make([]AuditField, 0, 12)
	add := func(k, v string) {
		if v != "" {
			fs = append(fs, AuditField{k, v})
		}
	}
	add("token_id", e.TokenID)
	add("token_prefix", e.TokenPrefix)
	add("subject_type", string(e.SubjectType))
	add("subject_email", e.SubjectEmail)
	add("subject_issuer", e.SubjectIssuer)
	add("account_id", e.AccountID)
	add("workspace_id", e.WorkspaceID)
	add("client_id", e.ClientID)
	add("device_label", e.DeviceLabel)
	add("request_id", e.RequestID)
	add("detail", e.Detail)
	add("actor", e.Actor)
	if len(e.Scopes) > 0 {
		fs = append(fs, AuditField{"scopes", e.Scopes})
	}
	if !e.ExpiresAt.IsZero() {
		fs = append(fs, AuditField{"expires_at", e.ExpiresAt.UTC().Format(time.RFC3339)})
	}
	if e.Rotated != nil {
		fs = append(fs, AuditField{"rotated", *e.Rotated})
	}
	return fs
}
