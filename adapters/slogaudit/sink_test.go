package slogaudit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/devicegate/devicegate/adapters/slogaudit"
	"github.com/devicegate/devicegate/domain"
)

func TestEmitWritesOneJSONRecord(t *testing.T) {
	var buf bytes.Buffer
	s := slogaudit.New(slog.New(slog.NewJSONHandler(&buf, nil)))
	rotated := true
	s.Emit(context.Background(), domain.AuditEvent{Name: domain.EventTokenIssued, TokenID: "t1", ClientID: "difyctl",
		Scopes: []string{"full"}, Rotated: &rotated})
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON record: %q", buf.String())
	}
	if rec["audit"] != true || rec["event"] != "oauth.token_issued" || rec["token_id"] != "t1" || rec["rotated"] != true {
		t.Fatalf("record %v", rec)
	}
	if _, ok := rec["workspace_id"]; ok {
		t.Fatal("empty fields are omitted")
	}
}

func TestEmitCarriesTheActor(t *testing.T) {
	var buf bytes.Buffer
	s := slogaudit.New(slog.New(slog.NewJSONHandler(&buf, nil)))
	s.Emit(context.Background(), domain.AuditEvent{Name: domain.EventTokenRevoked, TokenID: "t1", Actor: domain.ActorOperator})
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON record: %q", buf.String())
	}
	if rec["actor"] != "operator" {
		t.Fatalf("record %v, want actor=operator", rec)
	}
}
