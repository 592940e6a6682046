package otlpaudit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/devicegate/devicegate/adapters/otlpaudit"
	"github.com/devicegate/devicegate/domain"
)

// memExporter keeps exported records in memory.
type memExporter struct {
	mu      sync.Mutex
	records []sdklog.Record
}

func (m *memExporter) Export(_ context.Context, rs []sdklog.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rs {
		m.records = append(m.records, r.Clone())
	}
	return nil
}
func (m *memExporter) Shutdown(context.Context) error   { return nil }
func (m *memExporter) ForceFlush(context.Context) error { return nil }

// TestEmitExportsTheEventAsALogRecord proves the record's event name is the
// audit event's (unchanged) and its attributes are the log line's fields.
func TestEmitExportsTheEventAsALogRecord(t *testing.T) {
	exp := &memExporter{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	s := otlpaudit.NewWithProvider(lp)
	rotated := true
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	s.Emit(t.Context(), domain.AuditEvent{Name: domain.EventTokenIssued, At: at, TokenID: "t1", ClientID: "difyctl",
		SubjectType: domain.SubjectAccount, Scopes: []string{"full"}, Rotated: &rotated, ExpiresAt: at.Add(time.Hour)})
	if len(exp.records) != 1 {
		t.Fatalf("%d records", len(exp.records))
	}
	r := exp.records[0]
	if r.EventName() != "oauth.token_issued" || !r.Timestamp().Equal(at) || r.Body().AsString() != "audit oauth.token_issued" {
		t.Fatalf("record %q at %v body %v", r.EventName(), r.Timestamp(), r.Body())
	}
	got := map[string]attribute.Value{}
	r.WalkAttributes(func(kv attribute.KeyValue) bool { got[string(kv.Key)] = kv.Value; return true })
	if !got["audit"].AsBool() || got["event"].AsString() != "oauth.token_issued" || got["token_id"].AsString() != "t1" ||
		got["subject_type"].AsString() != "account" || !got["rotated"].AsBool() ||
		len(got["scopes"].AsStringSlice()) != 1 || got["expires_at"].AsString() != "2026-12-07T11:00:00Z" {
		t.Fatalf("attributes %v", got)
	}
	if _, ok := got["workspace_id"]; ok {
		t.Fatal("empty fields are left out")
	}
}
