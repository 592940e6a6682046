package app_test

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/memstore"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
)

type pollRig struct {
	*bearerRig
	flows *memstore.Flows
	start *app.StartFlow
	poll  *app.Poll
}

func newPollRig(t *testing.T) *pollRig {
	b := newBearerRig(t)
	b.clock.now = time.Now().UTC().Truncate(time.Second) // the memory store judges Create by real time
	flows := memstore.NewFlows()
	env := app.Env{Clock: b.clock, Rand: rand.Reader, Audit: b.audit}
	return &pollRig{bearerRig: b, flows: flows,
		start: &app.StartFlow{Env: env, Flows: flows, Limiter: memstore.NewRateLimiter(), KnownClients: map[string]bool{"difyctl": true}, PublicWebURL: "https://dg.example/"},
		poll:  &app.Poll{Env: env, Flows: flows, Minter: b.minter}}
}

func (r *pollRig) approved(t *testing.T) app.StartFlowOutput {
	t.Helper()
	out, err := r.start.Execute(context.Background(), app.StartFlowInput{ClientID: "difyctl", IP: "10.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	s := domain.Subject{Type: domain.SubjectAccount, Email: "a@b.c", AccountID: "acc-1"}
	if _, err := r.flows.Decide(context.Background(), out.UserCode, domain.Decision{Approve: true, Subject: &s}, r.clock.Now()); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStartFlowAnswer(t *testing.T) {
	r := newPollRig(t)
	out, err := r.start.Execute(context.Background(), app.StartFlowInput{ClientID: "difyctl"})
	if err != nil {
		t.Fatal(err)
	}
	if out.VerificationURI != "https://dg.example/device" || out.VerificationURIComplete != "https://dg.example/device?user_code="+out.UserCode ||
		out.ExpiresIn != 900 || out.Interval != 5 {
		t.Fatalf("%+v", out)
	}
	f, err := r.flows.ByUserCode(context.Background(), out.UserCode, r.clock.Now())
	if err != nil || f.DeviceLabel != "difyctl device" || f.DeviceCodeHash != domain.HashSecret(out.DeviceCode) {
		t.Fatalf("stored %+v %v", f, err)
	}
	if _, err := r.start.Execute(context.Background(), app.StartFlowInput{ClientID: "other"}); !errors.Is(err, domain.ErrUnsupportedClient) {
		t.Fatalf("unknown client: %v", err)
	}
}

func TestMintFailureReleasesTheClaim(t *testing.T) {
	r := newPollRig(t)
	out := r.approved(t)
	in := app.PollInput{DeviceCode: out.DeviceCode, ClientID: "difyctl", IP: "10.0.0.1"}
	r.tokens.failMint = domain.Unavailable("database", errors.New("down"))
	if _, err := r.poll.Execute(context.Background(), in); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("poll during outage: %v", err)
	}
	r.tokens.failMint = nil
	r.clock.Advance(5 * time.Second)
	g, err := r.poll.Execute(context.Background(), in)
	if err != nil || g.Token == "" {
		t.Fatalf("retry after release: %v", err)
	}
	r.clock.Advance(5 * time.Second)
	if _, err := r.poll.Execute(context.Background(), in); !errors.Is(err, domain.ErrExpiredToken) {
		t.Fatalf("consumed flow: %v", err)
	}
	if r.audit.count(domain.EventCrossIPPoll) != 0 {
		t.Fatal("same IP is not a cross-IP poll")
	}
}

func TestCrossIPPollIsAudited(t *testing.T) {
	r := newPollRig(t)
	out := r.approved(t)
	if _, err := r.poll.Execute(context.Background(), app.PollInput{DeviceCode: out.DeviceCode, ClientID: "difyctl", IP: "192.0.2.9"}); err != nil {
		t.Fatal(err)
	}
	if r.audit.count(domain.EventCrossIPPoll) != 1 {
		t.Fatal("cross-IP poll must be audited")
	}
}

func TestPollInputErrors(t *testing.T) {
	r := newPollRig(t)
	for _, c := range []struct {
		in   app.PollInput
		want error
	}{
		{app.PollInput{DeviceCode: "dc_x", ClientID: "difyctl", GrantType: "password"}, domain.ErrUnsupportedGrantType},
		{app.PollInput{ClientID: "difyctl"}, domain.ErrInvalidRequest},
		{app.PollInput{DeviceCode: "dc_x"}, domain.ErrInvalidRequest},
		{app.PollInput{DeviceCode: "dc_x", ClientID: "difyctl", GrantType: domain.GrantTypeDevice}, domain.ErrExpiredToken},
	} {
		if _, err := r.poll.Execute(context.Background(), c.in); !errors.Is(err, c.want) {
			t.Errorf("%+v: %v, want %v", c.in, err, c.want)
		}
	}
}

// TestStalledMintNeverClobbersALaterClaim stalls one poll's mint past its
// deadline; a later poll re-claims after the lease and wins. The stalled mint
// is cancelled, so it neither returns a token nor replaces the winner's.
func TestStalledMintNeverClobbersALaterClaim(t *testing.T) {
	r := newPollRig(t)
	r.auth.Bucket.Limit = 0
	r.poll.MintTimeout = 200 * time.Millisecond
	out := r.approved(t)
	in := app.PollInput{DeviceCode: out.DeviceCode, ClientID: "difyctl"}
	stalled, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	r.tokens.mintHook = func(ctx context.Context) {
		first := false
		once.Do(func() { first = true })
		if first {
			close(stalled)
			<-release
			<-ctx.Done() // the stalled mint outlives its deadline
		}
	}
	type result struct {
		g   app.Grant
		err error
	}
	done := make(chan result)
	go func() {
		g, err := r.poll.Execute(context.Background(), in)
		done <- result{g, err}
	}()
	<-stalled
	r.clock.Advance(domain.ClaimLease + time.Second)
	winner, err := r.poll.Execute(context.Background(), in)
	if err != nil {
		t.Fatalf("re-claim after the lease: %v", err)
	}
	close(release)
	loser := <-done
	if loser.err == nil || loser.g.Token != "" {
		t.Fatalf("stalled poll must fail without a token: %v", loser.err)
	}
	if _, err := r.auth.Validate(context.Background(), winner.Token); err != nil {
		t.Fatalf("winner's token: %v", err)
	}
	rows, total, _ := r.tokens.ListLive(context.Background(), domain.Owner{AccountID: "acc-1"}, r.clock.Now(), 1, 10)
	if total != 1 || rows[0].TokenHash != domain.HashSecret(winner.Token) {
		t.Fatalf("one live row holding the winner's hash expected, got %d", total)
	}
}

// lostLease is a flow poller whose FinishClaim finds the claim taken over,
// as when this poll's lease ran out and another poll re-claimed the flow.
type lostLease struct{ *memstore.Flows }

func (lostLease) FinishClaim(context.Context, string, string) error { return domain.ErrClaimLost }

// TestTokenIssuedOnlyOnceDelivered: oauth.token_issued speaks of a token the
// client received. A claimant that loses its claim after minting hands out
// nothing and logs nothing; a delivered token is logged once, and rotated
// says whether its mint replaced the device's previous token in place.
func TestTokenIssuedOnlyOnceDelivered(t *testing.T) {
	r := newPollRig(t)
	out := r.approved(t)
	in := app.PollInput{DeviceCode: out.DeviceCode, ClientID: "difyctl", IP: "10.0.0.1"}
	loser := &app.Poll{Env: r.poll.Env, Flows: lostLease{r.flows}, Minter: r.minter}
	if g, err := loser.Execute(context.Background(), in); !errors.Is(err, domain.ErrAuthorizationPending) || g.Token != "" {
		t.Fatalf("poll that lost its claim: token %q, %v; want authorization_pending and no token", g.Token, err)
	}
	if n := r.audit.count(domain.EventTokenIssued); n != 0 {
		t.Fatalf("%d oauth.token_issued events for an undelivered token, want 0", n)
	}

	issued := func(want bool) {
		t.Helper()
		r.audit.mu.Lock()
		defer r.audit.mu.Unlock()
		var got []domain.AuditEvent
		for _, e := range r.audit.events {
			if e.Name == domain.EventTokenIssued {
				got = append(got, e)
			}
		}
		if len(got) != 1 || got[0].Rotated == nil || *got[0].Rotated != want || got[0].TokenID == "" ||
			got[0].ClientID != "difyctl" || got[0].AccountID != "acc-1" {
			t.Fatalf("oauth.token_issued events %+v, want one with rotated=%v", got, want)
		}
		r.audit.events = nil
	}
	// A fresh rig (no undelivered row), one device twice: the first token
	// is new, the second rotates it.
	r = newPollRig(t)
	for _, rotated := range []bool{false, true} {
		r.clock.Advance(time.Minute)
		out := r.approved(t)
		if _, err := r.poll.Execute(context.Background(), app.PollInput{DeviceCode: out.DeviceCode, ClientID: "difyctl"}); err != nil {
			t.Fatal(err)
		}
		issued(rotated)
	}
}
