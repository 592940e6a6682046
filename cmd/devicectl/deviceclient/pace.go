package deviceclient

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"
)

// pacer is the transport of the polls. golang.org/x/oauth2 polls on a
// ticker, so two polls leave exactly one interval apart, but the server
// measures the gap between their arrivals: when the previous poll was
// slower to arrive than this one (a new connection, a busy server), the gap
// it sees is a little under the interval and it answers slow_down, costing
// the user 5 s more per poll from then on. The pacer holds a poll until one
// interval after the previous poll's answer came back, which is never
// before one interval after that poll arrived. It also follows slow_down
// (the interval grows by 5 s, as the library's ticker does) for the status.
type pacer struct {
	next     http.RoundTripper
	tokenURL string

	mu        sync.Mutex
	interval  time.Duration
	lastDone  time.Time
	slowDowns int
}

func (p *pacer) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || req.URL.String() != p.tokenURL {
		return p.next.RoundTrip(req)
	}
	p.mu.Lock()
	wait := time.Until(p.lastDone.Add(p.interval))
	p.mu.Unlock()
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-req.Context().Done():
			t.Stop()
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, req.Context().Err()
		}
	}
	resp, err := p.next.RoundTrip(req)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastDone = time.Now()
	if err == nil && resp.StatusCode == http.StatusBadRequest {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error == "slow_down" {
			p.interval += 5 * time.Second
			p.slowDowns++
		}
	}
	return resp, err
}

// state is the current poll interval and how many slow_downs were answered.
func (p *pacer) state() (time.Duration, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.interval, p.slowDowns
}
