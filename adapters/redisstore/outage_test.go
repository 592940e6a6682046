package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports/porttest"
)

// outageBound is how soon an operation must fail once Redis is gone: a
// behavioural bound (a request answers 503, it does not hang), not a
// performance assertion. It is derived from the operation timeout with
// slack for a loaded 2-core CI machine; a hang would last until the 30 s
// caller context (or TCP) gives up, far beyond it.
const outageBound = 3*opTimeout + 2*time.Second

// TestOutage runs a real redis-server under a live client and breaks it two
// ways: killed (connections reset, dials refused) and frozen with SIGSTOP
// (connections accept but nothing answers). Each time Create, Poll,
// ByUserCode, the rate limiter (Allow and Undo) and Ping must fail with domain.ErrUnavailable
// within outageBound even with a generous context, and afterwards the SAME
// client must recover by itself.
func TestOutage(t *testing.T) {
	t.Parallel() // mostly waiting on timeouts
	srv := startRedis(t, t.TempDir(), freePort(t))
	c, err := NewClient("redis://" + srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	flows, rl, ping := NewFlows(c, "outage:"), NewRateLimiter(c, "outage:"), NewPinger(c)
	now := time.Now().Truncate(time.Second)
	f := porttest.NewFlow(t, now)
	if err := flows.Create(t.Context(), f); err != nil {
		t.Fatalf("Create while up: %v", err)
	}
	ops := map[string]func(ctx context.Context) error{
		"Create": func(ctx context.Context) error { return flows.Create(ctx, porttest.NewFlow(t, now)) },
		"Poll": func(ctx context.Context) error {
			_, err := flows.Poll(ctx, f.DeviceCodeHash, domain.PollRequest{ClientID: f.ClientID, ClaimID: "claim"}, now)
			return err
		},
		"ByUserCode": func(ctx context.Context) error {
			_, err := flows.ByUserCode(ctx, f.UserCode, now)
			return err
		},
		"Allow": func(ctx context.Context) error {
			_, err := rl.Allow(ctx, domain.BucketLookup, "198.51.100.7", now)
			return err
		},
		"Undo": func(ctx context.Context) error { return rl.Undo(ctx, domain.BucketLoginIP, "198.51.100.7", now) },
		"Ping": ping.Ping,
	}
	recovered := func(what string) {
		t.Helper()
		err := waitFor(10*time.Second, func() error {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			g := porttest.NewFlow(t, now) // fresh each try: a retried poll would be slow_down
			if err := flows.Create(ctx, g); err != nil {
				return err
			}
			if _, err := flows.Poll(ctx, g.DeviceCodeHash, domain.PollRequest{ClientID: g.ClientID, ClaimID: "claim"}, now); !errors.Is(err, domain.ErrAuthorizationPending) {
				return fmt.Errorf("poll: got %w, want authorization_pending", err)
			}
			return ping.Ping(ctx)
		})
		if err != nil {
			t.Fatalf("the client did not recover after %s: %v", what, err)
		}
	}

	srv.stop()
	failFast(t, "killed", ops)
	srv.start() // same port, empty data (no persistence)
	recovered("a restart")

	if err := srv.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	failFast(t, "frozen", ops)
	if err := srv.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	recovered("SIGCONT")
}

// failFast runs every op at once, each with a 30 s context, and fails t
// unless each returns domain.ErrUnavailable within outageBound.
func failFast(t *testing.T, state string, ops map[string]func(context.Context) error) {
	t.Helper()
	var wg sync.WaitGroup
	for name, op := range ops {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			start := time.Now()
			err := op(ctx)
			took := time.Since(start)
			t.Logf("%s while Redis is %s: %v after %v", name, state, err, took.Round(time.Millisecond))
			if !errors.Is(err, domain.ErrUnavailable) {
				t.Errorf("%s while Redis is %s: got %v, want domain.ErrUnavailable", name, state, err)
			}
			if took > outageBound {
				t.Errorf("%s while Redis is %s took %v, want under %v", name, state, took, outageBound)
			}
		})
	}
	wg.Wait()
}

// TestOutOfMemoryIsUnavailable: a Redis at maxmemory with noeviction refuses
// writes (OOM). The service cannot serve then: a 503 worth a retry, not a
// programming error (500). (A script whose first write does not add memory,
// like the rate limiter's trim, is let through by Redis and still works.)
func TestOutOfMemoryIsUnavailable(t *testing.T) {
	t.Parallel()
	srv := startRedis(t, t.TempDir(), freePort(t), "--maxmemory-policy", "noeviction")
	c, err := NewClient("redis://" + srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	now := time.Now().Truncate(time.Second)
	flows := NewFlows(c, "oom:")
	f := porttest.NewFlow(t, now)
	if err := flows.Create(t.Context(), f); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(t.Context(), c.B().ConfigSet().ParameterValue().ParameterValue("maxmemory", "1").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	ops := map[string]func(context.Context) error{
		"Create": func(ctx context.Context) error { return flows.Create(ctx, porttest.NewFlow(t, now)) },
		"Poll": func(ctx context.Context) error {
			_, err := flows.Poll(ctx, f.DeviceCodeHash, domain.PollRequest{ClientID: f.ClientID, ClaimID: "claim"}, now)
			return err
		},
		"Reserve": func(ctx context.Context) error {
			_, err := NewNonceStore(c, "oom:").Reserve(ctx, "nonce", "owner", time.Minute)
			return err
		},
	}
	for name, op := range ops {
		if err := op(t.Context()); !errors.Is(err, domain.ErrUnavailable) {
			t.Errorf("%s on a Redis out of memory: got %v, want domain.ErrUnavailable", name, err)
		}
	}
}
