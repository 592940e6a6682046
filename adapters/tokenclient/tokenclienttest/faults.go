package tokenclienttest

import (
	"net/http"
	"sync"
)

// Faults wraps a real devicegate handler (for example the one a test
// builds from devicegate's own graph) so that a test can make it answer as
// a rate-limited or unavailable devicegate would; healed, it passes every
// request through untouched. It is the real server's counterpart of
// Server.Fail, for Upstream.Fail.
type Faults struct {
	next http.Handler

	mu         sync.Mutex
	status     int
	retryAfter string
}

// NewFaults wraps next, healed.
func NewFaults(next http.Handler) *Faults { return &Faults{next: next} }

// Fail makes every later request answer status with the canonical error
// body and, if retryAfter is not "", a Retry-After header. Fail(0, "") heals.
func (f *Faults) Fail(status int, retryAfter string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.retryAfter = status, retryAfter
}

// ServeHTTP answers the injected failure, or passes the request on.
func (f *Faults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	status, retryAfter := f.status, f.retryAfter
	f.mu.Unlock()
	if status != 0 {
		writeFailure(w, status, retryAfter)
		return
	}
	f.next.ServeHTTP(w, r)
}
