package tracing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/devicegate/devicegate/adapters/tracing"
)

// TestLogHandlerAddsTheTraceID proves a record logged with a span's context
// carries its trace and span ids, and one logged without carries neither.
func TestLogHandlerAddsTheTraceID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(tracing.LogHandler(slog.NewJSONHandler(&buf, nil))).With("component", "test")
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder()))
	ctx, span := tp.Tracer("t").Start(context.Background(), "op")
	log.InfoContext(ctx, "inside")
	span.End()
	log.InfoContext(context.Background(), "outside")
	dec := json.NewDecoder(&buf)
	var in, out map[string]any
	if dec.Decode(&in) != nil || dec.Decode(&out) != nil {
		t.Fatalf("log %q", buf.String())
	}
	if in["trace_id"] != span.SpanContext().TraceID().String() || in["span_id"] != span.SpanContext().SpanID().String() || in["component"] != "test" {
		t.Fatalf("record inside the span: %v", in)
	}
	if _, ok := out["trace_id"]; ok {
		t.Fatalf("record outside any span: %v", out)
	}
}

// TestHandlerHonoursTraceparentOnlyFromTrustedPeers checks the trust rule
// on the socket peer (not X-Forwarded-For, which the caller writes).
func TestHandlerHonoursTraceparentOnlyFromTrustedPeers(t *testing.T) {
	_, trusted, _ := net.ParseCIDR("10.0.0.0/8")
	for _, c := range []struct {
		peer   string
		honour bool
	}{{"10.1.2.3:5555", true}, {"192.0.2.7:5555", false}} {
		sr := tracetest.NewSpanRecorder()
		tr := tracing.NewWithProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr)), []*net.IPNet{trusted})
		h := tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tr.ObserveRequest(r.Context(), "/x/:id", r.Method, 204, 0)
		}))
		req := httptest.NewRequest(http.MethodGet, "/x/42?user_code=ABCD-EFGH", nil)
		req.RemoteAddr = c.peer
		req.Header.Set("X-Forwarded-For", "10.9.9.9")
		req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		h.ServeHTTP(httptest.NewRecorder(), req)
		spans := sr.Ended()
		if len(spans) != 1 || spans[0].Name() != "GET /x/:id" {
			t.Fatalf("%s: spans %v", c.peer, spans)
		}
		honoured := spans[0].SpanContext().TraceID().String() == "4bf92f3577b34da6a3ce929d0e0e4736"
		if honoured != c.honour {
			t.Errorf("peer %s: traceparent honoured = %v, want %v", c.peer, honoured, c.honour)
		}
		for _, a := range spans[0].Attributes() {
			if v := a.Value.String(); v == "/x/42?user_code=ABCD-EFGH" || v == "/x/42" {
				t.Errorf("the span records the URL: %v", a)
			}
		}
	}
}

// TestExportErrorsReachTheLog proves OpenTelemetry's own errors are logged
// through the service's logger (in its format), not the standard library's.
func TestExportErrorsReachTheLog(t *testing.T) {
	var buf bytes.Buffer
	tracing.LogExportErrors(slog.New(slog.NewJSONHandler(&buf, nil)))
	otel.Handle(errors.New("collector unreachable"))
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil || rec["msg"] != "opentelemetry export failed" || rec["err"] != "collector unreachable" {
		t.Fatalf("log %q", buf.String())
	}
}
