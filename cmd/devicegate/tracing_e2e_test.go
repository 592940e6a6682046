package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/fx"

	"github.com/devicegate/devicegate/adapters/tracing"
)

// tracedInstance starts the service with tracing on (OTEL_EXPORTER_OTLP_ENDPOINT
// set), its spans recorded in memory instead of exported.
func tracedInstance(t *testing.T, trustedProxies string) (*instance, *tracetest.SpanRecorder) {
	t.Helper()
	vars := sqliteVars(t)
	vars["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:1"
	vars["TRUSTED_PROXIES"] = trustedProxies
	cfg, err := LoadConfig(testEnv(vars))
	if err != nil {
		t.Fatal(err)
	}
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	return startInstance(t, vars, fx.Replace(tracing.NewWithProvider(tp, cfg.TrustedProxies))), sr
}

const (
	callerTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerParent = "00f067aa0ba902b7"
)

// tracedRoute is the route the traced request takes; an unknown token is
// looked up in the database, a backend call.
const tracedRoute = "/openapi/v1/me"

// startTraced sends a bearer request carrying a W3C traceparent.
func startTraced(t *testing.T, base string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+tracedRoute, nil)
	req.Header.Set("Authorization", "Bearer dfoa_"+strings.Repeat("Q", 43))
	req.Header.Set("traceparent", "00-"+callerTrace+"-"+callerParent+"-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("/me with an unknown token: %d", resp.StatusCode)
	}
}

// TestTracingSpansPerRequestAndBackendCall proves, with tracing on and the
// caller a trusted proxy: the request's span continues the caller's trace
// and is named by its route template; the token lookup is a child span;
// and the request's log lines carry the trace id.
func TestTracingSpansPerRequestAndBackendCall(t *testing.T) {
	in, sr := tracedInstance(t, "127.0.0.1/32")
	startTraced(t, in.Base)
	in.app.Stop(t.Context()) // ends every span and flushes the logs

	var server, store sdktrace.ReadOnlySpan
	for _, s := range sr.Ended() {
		switch s.Name() {
		case "GET " + tracedRoute:
			server = s
		case "sqlite token_by_hash":
			store = s
		}
	}
	if server == nil || store == nil {
		t.Fatalf("spans %v: want the request's and the token lookup's", spanNames(sr))
	}
	if server.SpanContext().TraceID().String() != callerTrace || server.Parent().SpanID().String() != callerParent {
		t.Fatalf("request span trace %s parent %s: the trusted caller's traceparent was not honoured",
			server.SpanContext().TraceID(), server.Parent().SpanID())
	}
	if store.Parent().SpanID() != server.SpanContext().SpanID() {
		t.Fatal("the backend call's span is not a child of the request's")
	}
	found := false
	for _, line := range strings.Split(in.logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != "http request" {
			continue
		}
		if rec["route"] == tracedRoute {
			found = true
			if rec["trace_id"] != callerTrace {
				t.Fatalf("the request's log line has trace_id %v, want %s", rec["trace_id"], callerTrace)
			}
		}
	}
	if !found {
		t.Fatal("no access log line for the request")
	}
}

// TestTracingIgnoresTraceparentFromUntrustedCallers proves a caller that is
// not a trusted proxy cannot join or steer a trace: its request starts a new one.
func TestTracingIgnoresTraceparentFromUntrustedCallers(t *testing.T) {
	in, sr := tracedInstance(t, "")
	startTraced(t, in.Base)
	in.app.Stop(t.Context())
	for _, s := range sr.Ended() {
		if s.Name() == "GET "+tracedRoute {
			if s.SpanContext().TraceID().String() == callerTrace || s.Parent().IsValid() {
				t.Fatal("an untrusted caller's traceparent was honoured")
			}
			return
		}
	}
	t.Fatalf("no request span among %v", spanNames(sr))
}

func spanNames(sr *tracetest.SpanRecorder) []string {
	var names []string
	for _, s := range sr.Ended() {
		names = append(names, s.Name())
	}
	return names
}
