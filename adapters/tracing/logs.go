package tracing

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// logHandler adds trace_id and span_id to every record logged with a
// context that carries a span.
type logHandler struct{ next slog.Handler }

// LogHandler wraps h so that each record written with a request's context
// carries that request's trace id.
func LogHandler(h slog.Handler) slog.Handler { return logHandler{next: h} }

// Enabled defers to the wrapped handler.
func (h logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle adds the ids and hands the record on.
func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r = r.Clone()
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs keeps the wrapper around the derived handler.
func (h logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return logHandler{next: h.next.WithAttrs(as)}
}

// WithGroup keeps the wrapper around the derived handler.
func (h logHandler) WithGroup(name string) slog.Handler {
	return logHandler{next: h.next.WithGroup(name)}
}

// LogExportErrors sends OpenTelemetry's own errors (an unreachable
// collector, a refused export) to log as warnings instead of the standard
// library logger's plain lines, so they keep the service's log format.
func LogExportErrors(log *slog.Logger) {
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("opentelemetry export failed", "err", err)
	}))
}
