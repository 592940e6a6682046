package otlpaudit

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/devicegate/devicegate/domain"
)

// Sink exports audit events as OpenTelemetry log records.
type Sink struct {
	logger   otellog.Logger
	shutdown func(context.Context) error
}

// Options configure New.
type Options struct {
	// Endpoint is the OTLP/HTTP logs URL (e.g. http://collector:4318/v1/logs).
	Endpoint string
	// ServiceName and Version describe the service on every record.
	ServiceName, Version string
}

// New exports to o.Endpoint in batches. Headers, timeouts and TLS come from
// the standard OTEL_EXPORTER_OTLP_* variables.
func New(ctx context.Context, o Options) (*Sink, error) {
	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(o.Endpoint))
	if err != nil {
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: %w", err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", o.ServiceName),
		attribute.String("service.version", o.Version))
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)), sdklog.WithResource(res))
	s := NewWithProvider(lp)
	s.shutdown = lp.Shutdown
	return s, nil
}

// NewWithProvider emits on lp (tests pass an SDK provider with an in-memory exporter).
func NewWithProvider(lp otellog.LoggerProvider) *Sink {
	return &Sink{logger: lp.Logger("github.com/devicegate/devicegate/audit"),
		shutdown: func(context.Context) error { return nil }}
}

// Shutdown exports the records still batched and stops the exporter.
func (s *Sink) Shutdown(ctx context.Context) error { return s.shutdown(ctx) }

// Emit hands e to the exporter (delivery errors are the SDK's to report;
// a request never waits on the collector). The event type carries no
// secrets by construction, so every field is exported.
func (s *Sink) Emit(ctx context.Context, e domain.AuditEvent) {
	var r otellog.Record
	r.SetEventName(e.Name)
	r.SetTimestamp(e.At)
	r.SetSeverity(otellog.SeverityInfo)
	r.SetSeverityText("INFO")
	r.SetBody(attribute.StringValue("audit " + e.Name))
	attrs := []attribute.KeyValue{attribute.Bool("audit", true), attribute.String("event", e.Name)}
	for _, f := range e.Fields() {
		switch v := f.Value.(type) {
		case string:
			attrs = append(attrs, attribute.String(f.Key, v))
		case []string:
			attrs = append(attrs, attribute.StringSlice(f.Key, v))
		case bool:
			attrs = append(attrs, attribute.Bool(f.Key, v))
		}
	}
	r.AddAttributes(attrs...)
	s.logger.Emit(ctx, r)
}
