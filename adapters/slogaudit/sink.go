package slogaudit

import (
	"context"
	"log/slog"

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
	for _, f := range e.Fields() {
		attrs = append(attrs, slog.Any(f.Key, f.Value))
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "audit "+e.Name, attrs...)
}
