package httpapi_test

import (
	"net/http"
	"sync"
	"testing"
)

// raceStatuses fires n copies of do at once and counts the statuses.
func raceStatuses(n int, do func() int) map[int]int {
	var mu sync.Mutex
	var wg sync.WaitGroup
	counts := map[int]int{}
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			code := do()
			mu.Lock()
			counts[code]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return counts
}

// TestConcurrentPolls: many polls on one approved flow; exactly one gets a token.
func TestConcurrentPolls(t *testing.T) {
	s := newTestServer(t)
	dc, uc := s.startFlow()
	wantStatus(t, s.decide("approve", uc, s.login("alice@example.com")), http.StatusOK)
	counts := raceStatuses(8, func() int { return s.poll(dc, testClient).Code })
	if counts[http.StatusOK] != 1 || counts[http.StatusBadRequest] != 7 {
		t.Fatalf("statuses %v, want one 200 and seven 400", counts)
	}
}

// TestConcurrentDecisions: approvals and denials racing on one flow; exactly one wins.
func TestConcurrentDecisions(t *testing.T) {
	s := newTestServer(t)
	_, uc := s.startFlow()
	l := s.login("alice@example.com")
	var mu sync.Mutex
	n := 0
	counts := raceStatuses(8, func() int {
		mu.Lock()
		action := []string{"approve", "deny"}[n%2]
		n++
		mu.Unlock()
		return s.decide(action, uc, l).Code
	})
	if counts[http.StatusOK] != 1 || counts[http.StatusConflict] != 7 {
		t.Fatalf("statuses %v, want one 200 and seven 409", counts)
	}
}
