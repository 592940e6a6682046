package tokenclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/tokenclient"
	"github.com/devicegate/devicegate/adapters/tokenclient/tokenclienttest"
)

// unavailable asserts err is an unavailability (not a verdict) and returns it.
func unavailable(t *testing.T, err error) *tokenclient.UnavailableError {
	t.Helper()
	var ue *tokenclient.UnavailableError
	if !errors.Is(err, tokenclient.ErrUnavailable) || errors.Is(err, tokenclient.ErrInactive) || !errors.As(err, &ue) {
		t.Fatalf("err = %v, want an *UnavailableError and not ErrInactive", err)
	}
	if strings.Contains(err.Error(), "dfoa_") || strings.Contains(err.Error(), secret) {
		t.Fatalf("error text leaks the token or secret: %q", err)
	}
	return ue
}

func TestRejectedSecretIsUnavailableAndNotCached(t *testing.T) {
	c, srv, _ := setup(t, tokenclient.Config{Secret: "wrong-secret"})
	srv.Add("dfoa_tok", tokenclienttest.Account("t", "a", "a@x", time.Now().Add(time.Hour)))
	for range 2 {
		_, err := c.Validate(context.Background(), "dfoa_tok")
		if ue := unavailable(t, err); ue.Status != http.StatusUnauthorized {
			t.Fatalf("Status = %d, want 401", ue.Status)
		}
	}
	if n := srv.Calls(); n != 2 {
		t.Fatalf("calls = %d, want 2 (unavailability is never cached)", n)
	}
}

func TestUpstreamStatusesAreUnavailable(t *testing.T) {
	for _, tc := range []struct {
		status     int
		retryAfter string
		want       time.Duration
	}{
		{http.StatusServiceUnavailable, "7", 7 * time.Second},
		{http.StatusTooManyRequests, "3", 3 * time.Second},
		{http.StatusInternalServerError, "", 0},
	} {
		c, srv, _ := setup(t, tokenclient.Config{})
		srv.Fail(tc.status, tc.retryAfter)
		_, err := c.Validate(context.Background(), "dfoa_tok")
		ue := unavailable(t, err)
		if ue.Status != tc.status || ue.RetryAfter != tc.want {
			t.Errorf("status %d: got Status %d RetryAfter %v, want RetryAfter %v", tc.status, ue.Status, ue.RetryAfter, tc.want)
		}
	}
}

func TestWrongPathIsUnavailable(t *testing.T) {
	srv := tokenclienttest.NewServer(secret)
	defer srv.Close()
	c, err := tokenclient.New(tokenclient.Config{BaseURL: srv.URL + "/nested", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Validate(context.Background(), "dfoa_tok")
	if ue := unavailable(t, err); ue.Status != http.StatusNotFound {
		t.Fatalf("Status = %d, want 404", ue.Status)
	}
}

func TestMalformedAnswerIsUnavailable(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`<html>proxy error</html>`))
	}))
	defer fake.Close()
	c, err := tokenclient.New(tokenclient.Config{BaseURL: fake.URL, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Validate(context.Background(), "dfoa_tok")
	unavailable(t, err)
}

func TestTransportErrorIsUnavailable(t *testing.T) {
	srv := tokenclienttest.NewServer(secret)
	url := srv.URL
	srv.Close()
	c, err := tokenclient.New(tokenclient.Config{BaseURL: url, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Validate(context.Background(), "dfoa_tok")
	unavailable(t, err)
}

func TestTimeoutIsBounded(t *testing.T) {
	const timeout = 50 * time.Millisecond
	c, srv, _ := setup(t, tokenclient.Config{Timeout: timeout})
	defer srv.Hold()()
	start := time.Now()
	_, err := c.Validate(context.Background(), "dfoa_tok")
	unavailable(t, err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want it to wrap context.DeadlineExceeded", err)
	}
	// The held call would otherwise wait for the test's end; slack for a loaded machine.
	if d := time.Since(start); d > 3*timeout+2*time.Second {
		t.Fatalf("Validate took %v with a %v timeout", d, timeout)
	}
}

func TestCallerCancelDoesNotAbortSharedCall(t *testing.T) {
	c, srv, _ := setup(t, tokenclient.Config{})
	srv.Add("dfoa_tok", tokenclienttest.Account("t", "a", "a@x", time.Now().Add(time.Hour)))
	release := srv.Hold()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := c.Validate(ctx, "dfoa_tok"); done <- err }()
	eventually(t, "the call to reach devicegate", func() bool { return srv.Calls() == 1 })
	cancel()
	err := <-done
	unavailable(t, err)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	release()
	eventually(t, "the verdict to be cached", func() bool { return c.CacheLen() == 1 })
	if _, err := c.Validate(context.Background(), "dfoa_tok"); err != nil || srv.Calls() != 1 {
		t.Fatalf("Validate = %v with %d calls; want the abandoned call's cached verdict", err, srv.Calls())
	}
}

// coalesce runs n concurrent Validates of one token while devicegate holds
// the first request, waits until all n-1 others have joined it, releases,
// and returns every caller's error.
func coalesce(t *testing.T, c *tokenclient.Client, srv *tokenclienttest.Server, n int) []error {
	t.Helper()
	release := srv.Hold()
	defer release()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			p, err := c.Validate(context.Background(), "dfoa_hot")
			if err == nil && p.TokenID != "hot" {
				err = errors.New("wrong principal " + p.TokenID)
			}
			errs[i] = err
		})
	}
	eventually(t, "all callers to join one call", func() bool { return c.Joined("dfoa_hot") == n-1 })
	release()
	wg.Wait()
	return errs
}

func TestConcurrentMissesShareOneCall(t *testing.T) {
	c, srv, _ := setup(t, tokenclient.Config{})
	srv.Add("dfoa_hot", tokenclienttest.Account("hot", "a", "a@x", time.Now().Add(time.Hour)))
	for i, err := range coalesce(t, c, srv, 50) {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
	}
	if n := srv.Calls(); n != 1 {
		t.Fatalf("upstream calls = %d, want 1 for 50 concurrent misses", n)
	}
}

func TestConcurrentMissesShareOneFailure(t *testing.T) {
	// Failures are not cached, so one call for 50 callers proves coalescing.
	c, srv, _ := setup(t, tokenclient.Config{})
	srv.Fail(http.StatusServiceUnavailable, "1")
	for _, err := range coalesce(t, c, srv, 50) {
		unavailable(t, err)
	}
	if n := srv.Calls(); n != 1 {
		t.Fatalf("upstream calls = %d, want 1", n)
	}
}
