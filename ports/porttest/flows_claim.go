package porttest

import (
	"fmt"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// approveDecision is a decision approving with a fresh account subject.
func approveDecision() domain.Decision {
	return domain.Decision{Approve: true, Subject: flowAccountSubject()}
}

// denyDecision is a denying decision.
func denyDecision() domain.Decision { return domain.Decision{} }

// flowClaimLease: a claim holds for 30 s (concurrent polls are pending), then
// a poll takes it over; the first claimant can neither finish nor release,
// the current one finishes and the flow is gone.
func flowClaimLease(t *testing.T, s ports.Flows) {
	t0 := stNow()
	c := startFlow(t, s, NewFlow(t, t0))
	stWantErr(t, "approve", c.decide(approveDecision(), t0), nil)
	a, b, n := "claim-a-"+stRandHex(8), "claim-b-"+stRandHex(8), "claim-n-"+stRandHex(8)
	stWantErr(t, "claim A", c.poll(FlowClient, a, t0), nil)
	stWantErr(t, "poll while claimed", c.poll(FlowClient, n, t0.Add(10*time.Second)), domain.ErrAuthorizationPending)
	stWantErr(t, "poll 1 ms before the lease ends", c.poll(FlowClient, n, t0.Add(domain.ClaimLease-time.Millisecond)), domain.ErrAuthorizationPending)
	stWantErr(t, "take over after the lease", c.poll(FlowClient, b, t0.Add(40*time.Second)), nil)
	if c.want.ClaimID != b {
		t.Fatal("test bug: B should hold the claim")
	}
	stWantErr(t, "finish by the first claimant", c.finish(a, t0.Add(41*time.Second)), domain.ErrClaimLost)
	stWantErr(t, "release by the first claimant", c.release(a, t0.Add(41*time.Second)), domain.ErrClaimLost)
	stWantErr(t, "finish by the current claimant", c.finish(b, t0.Add(42*time.Second)), nil)
	stWantErr(t, "poll after finish", c.poll(FlowClient, n, t0.Add(50*time.Second)), domain.ErrExpiredToken)
	stWantErr(t, "finish twice", c.finish(b, t0.Add(50*time.Second)), domain.ErrClaimLost)

	// The lease ends exactly at ClaimExpiresAt.
	e := startFlow(t, s, NewFlow(t, t0))
	stWantErr(t, "approve", e.decide(approveDecision(), t0), nil)
	stWantErr(t, "claim A", e.poll(FlowClient, a, t0), nil)
	stWantErr(t, "take over exactly at the lease end", e.poll(FlowClient, b, t0.Add(domain.ClaimLease)), nil)
}

// flowReleaseClaim: a released claim is APPROVED again and a later poll
// claims it anew; only the claimant may release.
func flowReleaseClaim(t *testing.T, s ports.Flows) {
	t0 := stNow()
	c := startFlow(t, s, NewFlow(t, t0))
	stWantErr(t, "approve", c.decide(approveDecision(), t0), nil)
	a, b := "claim-a-"+stRandHex(8), "claim-b-"+stRandHex(8)
	stWantErr(t, "claim A", c.poll(FlowClient, a, t0), nil)
	stWantErr(t, "release with a wrong claim id", c.release("claim-wrong", t0), domain.ErrClaimLost)
	stWantErr(t, "release A", c.release(a, t0), nil)
	if c.want.Status != domain.FlowApproved || c.want.Subject == nil {
		t.Fatal("test bug: a released flow is approved with its subject")
	}
	stWantErr(t, "release A twice", c.release(a, t0), domain.ErrClaimLost)
	stWantErr(t, "poll too soon", c.poll(FlowClient, b, t0.Add(time.Second)), domain.ErrSlowDown)
	stWantErr(t, "claim B after the interval", c.poll(FlowClient, b, t0.Add(11*time.Second)), nil)
	stWantErr(t, "finish by A", c.finish(a, t0.Add(12*time.Second)), domain.ErrClaimLost)
	stWantErr(t, "finish by B", c.finish(b, t0.Add(12*time.Second)), nil)
}

// flowDeny: a denied flow answers access_denied to one poll and is gone;
// a too-soon poll still answers slow_down first.
func flowDeny(t *testing.T, s ports.Flows) {
	t0 := stNow()
	c := startFlow(t, s, NewFlow(t, t0))
	stWantErr(t, "deny", c.decide(denyDecision(), t0), nil)
	stWantErr(t, "poll", c.poll(FlowClient, "x", t0), domain.ErrAccessDenied)
	stWantErr(t, "poll again", c.poll(FlowClient, "x", t0.Add(10*time.Second)), domain.ErrExpiredToken)

	d := startFlow(t, s, NewFlow(t, t0))
	stWantErr(t, "pending poll", d.poll(FlowClient, "x", t0), domain.ErrAuthorizationPending)
	stWantErr(t, "deny", d.decide(denyDecision(), t0.Add(time.Second)), nil)
	stWantErr(t, "poll too soon", d.poll(FlowClient, "x", t0.Add(2*time.Second)), domain.ErrSlowDown)
	stWantErr(t, "wrong client", d.poll("other-cli", "x", t0.Add(20*time.Second)), domain.ErrInvalidGrant)
	stWantErr(t, "poll after the interval", d.poll(FlowClient, "x", t0.Add(20*time.Second)), domain.ErrAccessDenied)
	stWantErr(t, "poll again", d.poll(FlowClient, "x", t0.Add(40*time.Second)), domain.ErrExpiredToken)
}

// flowDecideResolved: a decision on anything but PENDING is already_resolved
// and changes nothing.
func flowDecideResolved(t *testing.T, s ports.Flows) {
	t0 := stNow()
	c := startFlow(t, s, NewFlow(t, t0))
	stWantErr(t, "approve", c.decide(approveDecision(), t0), nil)
	stWantErr(t, "approve again", c.decide(approveDecision(), t0.Add(time.Second)), domain.ErrAlreadyResolved)
	stWantErr(t, "deny an approved flow", c.decide(denyDecision(), t0.Add(time.Second)), domain.ErrAlreadyResolved)
	stWantErr(t, "claim", c.poll(FlowClient, "claim-a", t0.Add(2*time.Second)), nil)
	stWantErr(t, "approve a claimed flow", c.decide(approveDecision(), t0.Add(3*time.Second)), domain.ErrAlreadyResolved)
	stWantErr(t, "release", c.release("claim-a", t0.Add(3*time.Second)), nil)
	stWantErr(t, "deny a released flow", c.decide(denyDecision(), t0.Add(4*time.Second)), domain.ErrAlreadyResolved)

	d := startFlow(t, s, NewFlow(t, t0))
	stWantErr(t, "deny", d.decide(denyDecision(), t0), nil)
	stWantErr(t, "approve a denied flow", d.decide(approveDecision(), t0.Add(time.Second)), domain.ErrAlreadyResolved)
	stWantErr(t, "deny again", d.decide(denyDecision(), t0.Add(time.Second)), domain.ErrAlreadyResolved)
}

// flowDecideMissing: deciding an unknown or expired flow is not found.
func flowDecideMissing(t *testing.T, s ports.Flows) {
	t0 := stNow()
	code := NewFlow(t, t0).UserCode
	for _, d := range []domain.Decision{approveDecision(), denyDecision()} {
		_, err := s.Decide(t.Context(), code, d, t0)
		stWantErr(t, fmt.Sprintf("Decide(approve=%v) unknown", d.Approve), err, domain.ErrNotFound)
	}
	c := startFlow(t, s, NewFlow(t, t0))
	stWantErr(t, "approve at expiry", c.decide(approveDecision(), c.want.ExpiresAt), domain.ErrNotFound)
	stWantErr(t, "deny after expiry", c.decide(denyDecision(), c.want.ExpiresAt.Add(time.Minute)), domain.ErrNotFound)
}

// flowClaimOpsWithoutClaim: finish and release need a live claim by that id.
func flowClaimOpsWithoutClaim(t *testing.T, s ports.Flows) {
	t0 := stNow()
	unknown := domain.HashSecret("dc_unknown_" + stRandHex(16))
	stWantErr(t, "finish unknown", s.FinishClaim(t.Context(), unknown, "x"), domain.ErrClaimLost)
	stWantErr(t, "release unknown", s.ReleaseClaim(t.Context(), unknown, "x"), domain.ErrClaimLost)
	c := startFlow(t, s, NewFlow(t, t0))
	for _, id := range []string{"", "x"} {
		stWantErr(t, "finish pending", c.finish(id, t0), domain.ErrClaimLost)
		stWantErr(t, "release pending", c.release(id, t0), domain.ErrClaimLost)
	}
	stWantErr(t, "approve", c.decide(approveDecision(), t0), nil)
	for _, id := range []string{"", "x"} {
		stWantErr(t, "finish approved", c.finish(id, t0), domain.ErrClaimLost)
		stWantErr(t, "release approved", c.release(id, t0), domain.ErrClaimLost)
	}
}

// flowRandomWalk drives flows through random operations at random times and
// checks every answer and every stored state against the domain functions.
// A failure logs the seed; the walk is deterministic given the seed and the
// store's correctness.
func flowRandomWalk(t *testing.T, s ports.Flows) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("random walk seed %d", seed)
	rng := mrand.New(mrand.NewPCG(seed, 0x5eed)) //nolint:gosec // G404: a seeded, replayable walk, not a secret
	steps := []time.Duration{0, time.Millisecond, time.Second, 5*time.Second - time.Millisecond,
		5 * time.Second, 7 * time.Second, 12 * time.Second, 29 * time.Second, 31 * time.Second, 150 * time.Second}
	clients := []string{FlowClient, FlowClient, FlowClient, "other-cli"}
	for walk := 0; walk < 25; walk++ {
		now := stNow()
		f := NewFlow(t, now)
		if walk%2 == 1 {
			f = newPKCEFlow(t, now)
		}
		c := startFlow(t, s, f)
		// Mostly the flow's own verifier; sometimes a wrong or missing one.
		verifiers := []string{c.verifier, c.verifier, c.verifier, c.verifier, wrongVerifier(), ""}
		claims := []string{"", "claim-never"}
		for op := 0; op < 40 && c.want != nil && !c.want.Expired(now); op++ {
			now = now.Add(steps[rng.IntN(len(steps))])
			pick := claims[len(claims)-1]
			if rng.IntN(2) == 0 {
				pick = claims[rng.IntN(len(claims))]
			}
			switch r := rng.IntN(100); {
			case r < 55:
				id := fmt.Sprintf("claim-%d-%d", walk, op)
				claims = append(claims, id)
				_ = c.pollReq(domain.PollRequest{ClientID: clients[rng.IntN(len(clients))], ClaimID: id,
					VerifierChallenge: verifiers[rng.IntN(len(verifiers))]}, now)
			case r < 70:
				_ = c.decide(approveDecision(), now)
			case r < 75:
				_ = c.decide(denyDecision(), now)
			case r < 88:
				_ = c.release(pick, now)
			default:
				_ = c.finish(pick, now)
			}
		}
		if c.want != nil {
			at := c.want.ExpiresAt
			stWantErr(t, "decide at expiry", c.decide(approveDecision(), at), domain.ErrNotFound)
			stWantErr(t, "poll at expiry", c.poll(FlowClient, "late", at), domain.ErrExpiredToken)
		}
	}
}
