package porttest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// newPKCEFlow returns NewFlow with an S256 challenge, and that challenge.
func newPKCEFlow(t testing.TB, now time.Time) domain.Flow {
	f := NewFlow(t, now)
	f.CodeChallenge = domain.PKCEChallenge("verifier-" + stRandHex(24))
	return f
}

// wrongVerifier is the S256 of a verifier no flow was created with.
func wrongVerifier() string { return domain.PKCEChallenge("wrong-" + stRandHex(24)) }

// flowPKCE: a flow with a challenge keeps it, and a poll whose verifier is
// missing or wrong is a verifier mismatch that changes nothing: no poll
// time, no slow-down (even when too soon), no claim (even when approved).
func flowPKCE(t *testing.T, s ports.Flows) {
	t0 := stNow()
	c := startFlow(t, s, newPKCEFlow(t, t0))
	missing := domain.PollRequest{ClientID: FlowClient, ClaimID: "x"}
	wrong := domain.PollRequest{ClientID: FlowClient, ClaimID: "x", VerifierChallenge: wrongVerifier()}
	stWantErr(t, "missing verifier", c.pollReq(missing, t0), domain.ErrVerifierMismatch)
	stWantErr(t, "wrong verifier", c.pollReq(wrong, t0), domain.ErrVerifierMismatch)
	if !c.want.LastPolledAt.IsZero() {
		t.Fatal("test bug: a refused verifier must not record a poll")
	}
	stWantErr(t, "wrong client, no verifier", c.pollReq(domain.PollRequest{ClientID: "other-cli"}, t0), domain.ErrInvalidGrant)
	stWantErr(t, "right verifier", c.poll(FlowClient, "x", t0), domain.ErrAuthorizationPending)
	stWantErr(t, "wrong verifier too soon", c.pollReq(wrong, t0.Add(time.Second)), domain.ErrVerifierMismatch)
	if c.want.Interval != domain.DefaultInterval {
		t.Fatal("test bug: a refused verifier must not slow the flow")
	}
	stWantErr(t, "approve", c.decide(approveDecision(), t0.Add(2*time.Second)), nil)
	stWantErr(t, "wrong verifier on the approved flow", c.pollReq(wrong, t0.Add(10*time.Second)), domain.ErrVerifierMismatch)
	stWantErr(t, "missing verifier on the approved flow", c.pollReq(missing, t0.Add(10*time.Second)), domain.ErrVerifierMismatch)
	claimID := "claim-" + stRandHex(8)
	stWantErr(t, "right verifier claims", c.poll(FlowClient, claimID, t0.Add(10*time.Second)), nil)
	stWantErr(t, "wrong verifier while claimed", c.pollReq(wrong, t0.Add(20*time.Second)), domain.ErrVerifierMismatch)
	stWantErr(t, "finish", c.finish(claimID, t0.Add(20*time.Second)), nil)
	stWantErr(t, "wrong verifier after finish", c.pollReq(wrong, t0.Add(30*time.Second)), domain.ErrExpiredToken)

	// Without a challenge, polls without a verifier are as before, and one
	// carrying a verifier is refused (a stripped challenge is a downgrade).
	d := startFlow(t, s, NewFlow(t, t0))
	withVerifier := domain.PollRequest{ClientID: FlowClient, ClaimID: "x", VerifierChallenge: wrongVerifier()}
	stWantErr(t, "verifier without a challenge", d.pollReq(withVerifier, t0), domain.ErrVerifierMismatch)
	stWantErr(t, "no verifier, no challenge", d.poll(FlowClient, "x", t0), domain.ErrAuthorizationPending)
}

// flowRacePKCE: polls with missing or wrong verifiers race one rightful poll
// on an approved flow at the same now. The rightful poll claims (none of the
// refused ones recorded a poll time that would make it too soon); every
// other poll is a verifier mismatch.
func flowRacePKCE(t *testing.T, s ports.Flows) {
	const n = 30
	now := stNow()
	c := startFlow(t, s, newPKCEFlow(t, now))
	stWantErr(t, "approve", c.decide(approveDecision(), now), nil)
	claimID := "claim-right-" + stRandHex(8)
	bad := wrongVerifier()
	errs := make([]error, n)
	stRace(n, func(i int) {
		req := domain.PollRequest{ClientID: FlowClient, ClaimID: fmt.Sprint("claim-bad-", i), VerifierChallenge: bad}
		switch {
		case i == n/2:
			req = domain.PollRequest{ClientID: FlowClient, ClaimID: claimID, VerifierChallenge: c.verifier}
		case i%2 == 0:
			req.VerifierChallenge = ""
		}
		_, errs[i] = s.Poll(t.Context(), c.hash, req, now)
	})
	for i, err := range errs {
		want := domain.ErrVerifierMismatch
		if i == n/2 {
			want = nil
		}
		if !errors.Is(err, want) {
			t.Errorf("poll %d: got %v, want %v", i, err, want)
		}
	}
	step := domain.Poll(c.want, domain.PollRequest{ClientID: FlowClient, ClaimID: claimID, VerifierChallenge: c.verifier}, now)
	c.want = &step.Next
	c.check("after the race", now)
}
