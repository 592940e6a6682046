package deviceclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestPollsArriveAnIntervalApart serves a token endpoint that reads its
// clock late on the first poll (as a busy server or a new connection
// makes it) and answers slow_down once: every poll must still arrive at
// least the current interval after the previous one by the server's clock,
// or a strict server (devicegate's) answers slow_down and the user waits 5 s
// more per poll. The bound holds by causality, not by timing luck: the
// pacer sends no poll before one interval after the previous answer.
func TestPollsArriveAnIntervalApart(t *testing.T) {
	var mu sync.Mutex
	var arrivals []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/code" {
			json.NewEncoder(w).Encode(map[string]any{"device_code": "dc", "user_code": "ABCD-EFGH",
				"verification_uri": "http://x/device", "expires_in": 900, "interval": 1})
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if len(arrivals) == 0 {
			time.Sleep(300 * time.Millisecond)
		}
		arrivals = append(arrivals, time.Now())
		switch len(arrivals) {
		case 1:
			w.WriteHeader(400)
			w.Write([]byte(`{"error":"authorization_pending"}`))
		case 2:
			w.WriteHeader(400)
			w.Write([]byte(`{"error":"slow_down"}`))
		default:
			w.Write([]byte(`{"access_token":"dfoa_x","token_type":"Bearer","expires_in":3600,"token_id":"t1",
				"subject_type":"account","account":{"id":"a1","email":"ada@example.com","name":"Ada"}}`))
		}
	}))
	defer srv.Close()
	md := &Metadata{Issuer: srv.URL, DeviceAuthorizationEndpoint: srv.URL + "/code", TokenEndpoint: srv.URL + "/token"}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, err := StartLogin(ctx, srv.Client(), md, "difyctl", "")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := l.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "dfoa_x" || tok.TokenID != "t1" || tok.SubjectEmail != "ada@example.com" || tok.Account == nil || tok.Account.Name != "Ada" || tok.APIBase != srv.URL+"/openapi/v1" {
		t.Fatalf("token %+v", tok)
	}
	if every, slowDowns := l.PollInterval(); every != 6*time.Second || slowDowns != 1 {
		t.Fatalf("interval %v after %d slow_downs, want 6s after 1", every, slowDowns)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []time.Duration{time.Second, 6 * time.Second}
	for i := 1; i < len(arrivals); i++ {
		if gap := arrivals[i].Sub(arrivals[i-1]); gap < want[i-1] {
			t.Fatalf("poll %d arrived %v after the previous one, under the interval %v", i+1, gap, want[i-1])
		}
	}
}
