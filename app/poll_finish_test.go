package app_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/memstore"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
)

// flakyFinish is a flow poller whose FinishClaim fails with an outage for
// its first fails calls; applied says whether such a failed call still
// deleted the flow (the reply was lost on the way back, as when a Redis
// connection is cut after the script ran) or never reached the store.
type flakyFinish struct {
	*memstore.Flows
	mu      sync.Mutex
	fails   int
	applied bool
	calls   int
}

func (f *flakyFinish) FinishClaim(ctx context.Context, hash, claimID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fails > 0 {
		f.fails--
		if f.applied {
			if err := f.Flows.FinishClaim(ctx, hash, claimID); err != nil {
				return err
			}
		}
		return domain.Unavailable("redis", errors.New("connection cut"))
	}
	return f.Flows.FinishClaim(ctx, hash, claimID)
}

// TestPollSurvivesALostFinishReply: the finish that deletes a claimed flow
// may succeed in the store while its reply is lost. Answering 503 then loses
// the approval for good (the flow is gone and the freshly minted token,
// which replaced the device's previous one in place, is never handed out).
// The poll asks again while its lease is safe: a claim that is gone by then
// can only have been finished by itself, so it hands out the token, once.
func TestPollSurvivesALostFinishReply(t *testing.T) {
	for _, applied := range []bool{true, false} {
		r := newPollRig(t)
		out := r.approved(t)
		flows := &flakyFinish{Flows: r.flows, fails: 1, applied: applied}
		p := &app.Poll{Env: r.poll.Env, Flows: flows, Minter: r.minter}
		in := app.PollInput{DeviceCode: out.DeviceCode, ClientID: "difyctl", IP: "10.0.0.1"}
		g, err := p.Execute(context.Background(), in)
		if err != nil || g.Token == "" {
			t.Fatalf("applied=%v: poll after a lost finish reply: %v, want the token", applied, err)
		}
		if _, err := r.auth.Validate(context.Background(), g.Token); err != nil {
			t.Fatalf("applied=%v: the delivered token: %v", applied, err)
		}
		if n := r.audit.count(domain.EventTokenIssued); n != 1 {
			t.Fatalf("applied=%v: %d oauth.token_issued events, want 1", applied, n)
		}
		r.clock.Advance(5 * time.Second)
		if _, err := p.Execute(context.Background(), in); !errors.Is(err, domain.ErrExpiredToken) {
			t.Fatalf("applied=%v: the spent flow answered %v", applied, err)
		}
	}
}

// TestPollFinishOutageIsBounded: a finish that keeps failing is retried only
// briefly, then the outage is answered (503) without a token.
func TestPollFinishOutageIsBounded(t *testing.T) {
	r := newPollRig(t)
	out := r.approved(t)
	flows := &flakyFinish{Flows: r.flows, fails: 1 << 20}
	p := &app.Poll{Env: r.poll.Env, Flows: flows, Minter: r.minter}
	g, err := p.Execute(context.Background(), app.PollInput{DeviceCode: out.DeviceCode, ClientID: "difyctl"})
	if !errors.Is(err, domain.ErrUnavailable) || g.Token != "" {
		t.Fatalf("poll with the finish down: token %q, %v; want unavailable", g.Token, err)
	}
	if flows.calls < 2 {
		t.Fatalf("the finish was tried %d times, want a retry", flows.calls)
	}
}
