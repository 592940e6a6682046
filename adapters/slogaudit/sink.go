package slogaudit

import (
	"context"
	"log/slog"
	"time"

	"github.com/devicegate/devicegate/domain"
)

// Sink writes audit events to a slog.Logger.
type Sink struct {
	log *slog.Logger
}

// New returns a sink writing to log.
func New(log *slog.Logger) *Sink { return &Sink{log: log} }

// Emit writes e at info level. The event type carries no secrets by
// construction (no codes, tokens, hashes or cookies), so every field is safe to log.
func (s *Sink) Emit(ctx context.Context, e domain.AuditEvent) {
	attrs := []slog.Attr{slog.Bool("audit", true), slog.String("event", e.Name)}
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
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
		attrs = append(attrs, slog.Any("scopes", e.Scopes))
	}
	if !e.ExpiresAt.IsZero() {
		attrs = append(attrs, slog.String("expires_at", e.ExpiresAt.UTC().Format(time.RFC3339)))
	}
	if e.Rotated != nil {
		attrs = append(attrs, slog.Bool("rotated", *e.Rotated))
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "audit "+e.Name, attrs...)
}
