package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
)

// TestStartFlowRejectsUnstorableLabels: a device_label that is not valid
// UTF-8 or holds control characters is a 400 at the door. Postgres refuses a
// NUL byte in text, so such a label used to be accepted here, approved by the
// user, and then fail every poll's mint with a 500 until the flow expired;
// control characters would also reach terminals that list devices.
func TestStartFlowRejectsUnstorableLabels(t *testing.T) {
	r := newPollRig(t)
	for _, label := range []string{"a\x00b", "line\nbreak", "esc\x1b[31mred", "tab\there", "del\x7f", "c1\u0085x", "bad\xff\xfeutf8"} {
		_, err := r.start.Execute(context.Background(), app.StartFlowInput{ClientID: "difyctl", DeviceLabel: label})
		if !errors.Is(err, domain.ErrInvalidRequest) {
			t.Errorf("label %q: err = %v, want invalid_request", label, err)
		}
	}
	_, err := r.start.Execute(context.Background(), app.StartFlowInput{ClientID: "difyctl", DeviceLabel: "bad\xff"})
	if err == nil || strings.Contains(err.Error(), "at most 255") {
		t.Errorf("invalid UTF-8 must not be reported as too long: %v", err)
	}
	for _, label := range []string{"Alice's MacBook Pro", "笔记本 💻", strings.Repeat("é", 255)} {
		if _, err := r.start.Execute(context.Background(), app.StartFlowInput{ClientID: "difyctl", DeviceLabel: label}); err != nil {
			t.Errorf("label %q: %v", label, err)
		}
	}
}
