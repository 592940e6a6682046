package tracing

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/devicegate/devicegate/adapters/instrument"
)

// Tracing starts the spans of the service.
type Tracing struct {
	tracer   trace.Tracer
	trusted  []*net.IPNet
	prop     propagation.TextMapPropagator
	shutdown func(context.Context) error
}

// Options configure New.
type Options struct {
	// Endpoint is the OTLP/HTTP traces URL (e.g. http://collector:4318/v1/traces).
	Endpoint string
	// ServiceName and Version describe the service on every span.
	ServiceName, Version string
	// TrustedProxies are the peers whose traceparent header is honoured;
	// from anyone else a request starts a new trace.
	TrustedProxies []*net.IPNet
}

// New exports spans over OTLP/HTTP to o.Endpoint in batches. Headers,
// timeouts and TLS come from the standard OTEL_EXPORTER_OTLP_* variables.
func New(ctx context.Context, o Options) (*Tracing, error) {
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(o.Endpoint))
	if err != nil {
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: %w", err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", o.ServiceName),
		attribute.String("service.version", o.Version))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	t := NewWithProvider(tp, o.TrustedProxies)
	t.shutdown = tp.Shutdown
	return t, nil
}

// NewWithProvider starts spans on tp (tests pass an SDK provider with an
// in-memory recorder).
func NewWithProvider(tp trace.TracerProvider, trusted []*net.IPNet) *Tracing {
	return &Tracing{tracer: tp.Tracer("github.com/devicegate/devicegate"), trusted: trusted,
		prop: propagation.TraceContext{}, shutdown: func(context.Context) error { return nil }}
}

// Shutdown flushes the spans still batched and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error { return t.shutdown(ctx) }

// trustedPeer reports whether the socket peer of r is a trusted proxy.
func (t *Tracing) trustedPeer(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	for _, n := range t.trusted {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// Handler wraps next in a server span per request. The span is named by
// method only until ObserveRequest learns the route template; the URL (whose
// query may hold a user code) is never recorded.
func (t *Tracing) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if t.trustedPeer(r) {
			ctx = t.prop.Extract(ctx, propagation.HeaderCarrier(r.Header))
		}
		ctx, span := t.tracer.Start(ctx, "HTTP "+r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method)))
		defer span.End()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// ObserveRequest names the request's span by its route template and records
// the status (the HTTP adapter's RequestObserver).
func (t *Tracing) ObserveRequest(ctx context.Context, route, method string, status int, _ time.Duration) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.SetName(method + " " + route)
	span.SetAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", status))
	if status >= 500 {
		span.SetStatus(codes.Error, "")
	}
}

// backendProbe wraps one backend operation's calls in client spans.
type backendProbe struct {
	t     *Tracing
	name  string
	attrs trace.SpanStartEventOption
}

// Probe returns the probe of op on backend (instrument.Probes).
func (t *Tracing) Probe(backend, op string) instrument.Probe {
	return &backendProbe{t: t, name: backend + " " + op, attrs: trace.WithAttributes(
		attribute.String("devicegate.backend", backend), attribute.String("devicegate.op", op))}
}

// Begin starts the call's span.
func (p *backendProbe) Begin(ctx context.Context) context.Context {
	ctx, _ = p.t.tracer.Start(ctx, p.name, trace.WithSpanKind(trace.SpanKindClient), p.attrs)
	return ctx
}

// End ends it, marked as an error on an outage or an unexpected error (the
// message is left out: it may quote a value the backend was given).
func (p *backendProbe) End(ctx context.Context, _ time.Time, err error) {
	span := trace.SpanFromContext(ctx)
	o := instrument.Classify(err)
	span.SetAttributes(attribute.String("devicegate.outcome", o.String()))
	if o == instrument.Error {
		span.SetStatus(codes.Error, o.String())
	}
	span.End()
}
