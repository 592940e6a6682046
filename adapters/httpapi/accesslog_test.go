package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/httpapi"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// slowPoller is a flow store whose Poll blocks until its caller's context
// ends and then fails as a backend call does on a cancelled context.
type slowPoller struct {
	ports.FlowPoller
	entered chan struct{}
}

func (p *slowPoller) Poll(ctx context.Context, hash string, r domain.PollRequest, now time.Time) (domain.Flow, error) {
	close(p.entered)
	<-ctx.Done()
	return domain.Flow{}, domain.Unavailable("redis", ctx.Err())
}

// TestClientGoneDuringBackendCall: a client that disconnects while the poll
// waits on its backend is logged as a 499 at INFO, never as a 500 or an ERROR.
func TestClientGoneDuringBackendCall(t *testing.T) {
	slow := &slowPoller{entered: make(chan struct{})}
	s := newTestServer(t, func(st *setup) {
		st.pollFlows = func(p ports.FlowPoller) ports.FlowPoller { slow.FlowPoller = p; return slow }
	})
	dc, _ := s.startFlow()
	ctx, cancel := context.WithCancel(context.Background())
	body := url.Values{"device_code": {dc}, "client_id": {testClient},
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}.Encode()
	r := httptest.NewRequest(http.MethodPost, "/openapi/v1/oauth/device/token", strings.NewReader(body)).WithContext(ctx)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = testRemote
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { s.e.ServeHTTP(rec, r); close(done) }()
	select {
	case <-slow.entered:
	case <-done:
		t.Fatalf("the poll never reached the flow store: %d %s", rec.Code, rec.Body)
	}
	cancel() // what net/http does when the client's connection closes
	<-done
	logs := s.logs.String()
	if strings.Contains(logs, `"level":"ERROR"`) || strings.Contains(logs, `"status":500`) || strings.Contains(logs, `"status":503`) {
		t.Errorf("a client that went away was logged as a server error:\n%s", logs)
	}
	if !strings.Contains(logs, `"level":"INFO","msg":"http request: client went away"`) || !strings.Contains(logs, `"status":499`) {
		t.Errorf("no INFO line with status 499 for the client that went away:\n%s", logs)
	}
}

// accessLines counts the access-log lines for route.
func accessLines(logs, route string) int {
	n := 0
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `"msg":"http request`) && strings.Contains(l, `"route":"`+route+`"`) {
			n++
		}
	}
	return n
}

// TestAccessLogModes: all logs every request; errors only failures;
// sampled (the default) failures and state changes in full, pending polls 1 in N.
func TestAccessLogModes(t *testing.T) {
	const (
		codeRoute = "/openapi/v1/oauth/device/code"
		pollRoute = "/openapi/v1/oauth/device/token"
		polls     = 500
	)
	for _, tc := range []struct {
		mode string
		// want lines for: issued codes (2), unknown-client 400s (1), pending polls (polls)
		issued, failed int
		pollsMin       int
		pollsMax       int
	}{
		{httpapi.AccessLogAll, 2, 1, polls, polls},
		{httpapi.AccessLogErrors, 0, 1, 0, 0},
		{"", 2, 1, 0, polls / 5}, // "" is the default: sampled
	} {
		t.Run("mode="+tc.mode, func(t *testing.T) {
			s := newTestServer(t, func(st *setup) { st.cfg.AccessLog = tc.mode })
			dc, _ := s.startFlow()
			s.startFlow()
			wantStatus(t, s.postJSON(codeRoute, map[string]string{"client_id": "nope"}), http.StatusBadRequest)
			for i := 0; i < polls; i++ {
				rec := s.poll(dc, testClient)
				if rec.Code != http.StatusBadRequest {
					t.Fatalf("poll: %d %s", rec.Code, rec.Body)
				}
			}
			logs := s.logs.String()
			codes, got := accessLines(logs, codeRoute), accessLines(logs, pollRoute)
			if codes != tc.issued+tc.failed {
				t.Errorf("code route: %d lines, want %d (issued %d + failed %d)", codes, tc.issued+tc.failed, tc.issued, tc.failed)
			}
			if got < tc.pollsMin || got > tc.pollsMax {
				t.Errorf("%d pending polls: %d lines, want %d..%d", polls, got, tc.pollsMin, tc.pollsMax)
			}
		})
	}
}
