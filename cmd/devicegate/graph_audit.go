package main

import (
	"context"
	"log/slog"

	"go.uber.org/fx"

	"github.com/devicegate/devicegate/adapters/otlpaudit"
	"github.com/devicegate/devicegate/adapters/slogaudit"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// newAuditSink picks the audit sink of AUDIT_SINK: the JSON log line (log,
// the default), OpenTelemetry log records over OTLP (otlp), or both.
func newAuditSink(lc fx.Lifecycle, cfg *Config, log *slog.Logger) (ports.AuditSink, error) {
	if cfg.AuditSink == auditLog || cfg.AuditSink == "" {
		return slogaudit.New(log), nil
	}
	o, err := otlpaudit.New(context.Background(), otlpaudit.Options{Endpoint: cfg.LogsEndpoint,
		ServiceName: cfg.ServiceName, Version: readBuildInfo().Version})
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StopHook(o.Shutdown)) // exports what is still batched
	if cfg.AuditSink == auditOTLP {
		return o, nil
	}
	return auditFanout{slogaudit.New(log), o}, nil
}

// auditFanout hands every event to each sink in turn (AUDIT_SINK=both).
type auditFanout []ports.AuditSink

// Emit hands e to every sink.
func (f auditFanout) Emit(ctx context.Context, e domain.AuditEvent) {
	for _, s := range f {
		s.Emit(ctx, e)
	}
}
