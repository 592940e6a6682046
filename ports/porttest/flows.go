package porttest

import (
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// TestFlows checks that a ports.Flows restates the pure flow functions of
// package domain (Poll, Decide, FinishClaim, ReleaseClaim), which are the
// specification, and applies each of them atomically. newStore returns the
// store for one subtest; stores may share a backend, since every subtest uses
// fresh user codes and device codes. Times are passed explicitly (no sleeps);
// they stay near real time and every flow's ExpiresAt stays in the real
// future, so a store may also set real-time TTLs from ExpiresAt (plus one
// claim lease). The exceptions are ClaimOutlivesExpiry, which lets a claimed
// flow expire in real time (about 1.3 s), and CreateAfterFlowGone and
// RaceCreateRounds, which create flows that expired a second ago (a store
// may drop them at once; what they check holds either way).
func TestFlows(t *testing.T, newStore func(t *testing.T) ports.Flows) {
	t.Helper()
	cases := []struct {
		name string
		run  func(t *testing.T, s ports.Flows)
	}{
		{"CreateRoundTrip", flowCreateRoundTrip},
		{"CreateUserCodeTaken", flowUserCodeTaken},
		{"CreateAfterFlowGone", flowUserCodeFreed},
		{"ByUserCodeUnknownOrExpired", flowByUserCodeMissing},
		{"PollUnknownOrExpired", flowPollMissing},
		{"PollWrongClient", flowPollWrongClient},
		{"PollSlowDown", flowPollSlowDown},
		{"PKCE", flowPKCE},
		{"ApproveAndClaim", flowApproveAndClaim},
		{"ClaimLeaseTakeover", flowClaimLease},
		{"ClaimOutlivesExpiry", flowClaimOutlivesExpiry},
		{"ReleaseClaim", flowReleaseClaim},
		{"Deny", flowDeny},
		{"DecideResolved", flowDecideResolved},
		{"DecideUnknownOrExpired", flowDecideMissing},
		{"ClaimOpsWithoutClaim", flowClaimOpsWithoutClaim},
		{"RandomWalkMatchesDomain", flowRandomWalk},
		{"RacePollPending", flowRacePollPending},
		{"RacePollClaim", flowRacePollClaim},
		{"RaceDecide", flowRaceDecide},
		{"RaceCreate", flowRaceCreate},
		{"RaceCreateRounds", flowRaceCreateRounds},
		{"RacePKCE", flowRacePKCE},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

// flowCreateRoundTrip: every field survives Create, approval (both subject
// kinds), polling and claiming; stored values (not defaults) are used.
func flowCreateRoundTrip(t *testing.T, s ports.Flows) {
	now := stNow()
	c := startFlow(t, s, NewFlow(t, now))
	stWantErr(t, "approve", c.decide(domain.Decision{Approve: true, Subject: flowAccountSubject()}, now.Add(time.Second)), nil)
	if c.want.Subject == nil || len(c.want.Subject.Workspaces) != 2 {
		t.Fatal("test bug: the account subject should carry two workspaces")
	}
	stWantErr(t, "claiming poll", c.poll(FlowClient, "claim-"+stRandHex(8), now.Add(2*time.Second)), nil)

	// Non-default values with sub-second precision: a store must keep what
	// it was given, not recompute ExpiresAt or Interval.
	f := NewFlow(t, now.Add(123*time.Millisecond))
	f.ExpiresAt = now.Add(600*time.Second + 456*time.Millisecond)
	f.Interval = 7 * time.Second
	f.DeviceLabel = ""
	f.CreatedIP = "198.51.100.23"
	c2 := startFlow(t, s, f)
	stWantErr(t, "first poll", c2.poll(FlowClient, "x", now.Add(time.Second)), domain.ErrAuthorizationPending)
	stWantErr(t, "poll 6 s later (interval 7 s)", c2.poll(FlowClient, "x", now.Add(7*time.Second)), domain.ErrSlowDown)
	stWantErr(t, "external approve", c2.decide(domain.Decision{Approve: true, Subject: flowExternalSubject()}, now.Add(8*time.Second)), nil)
	c2.check("just before the custom expiry", now.Add(600*time.Second+455*time.Millisecond))
	c2.check("at the custom expiry", now.Add(600*time.Second+456*time.Millisecond))
}

// flowUserCodeTaken: a second flow with a live flow's user code is refused
// and writes nothing; the original is untouched.
func flowUserCodeTaken(t *testing.T, s ports.Flows) {
	now := stNow()
	orig := NewFlow(t, now)
	c := startFlow(t, s, orig)
	dup := NewFlow(t, now.Add(time.Second))
	dup.UserCode = orig.UserCode
	dup.ClientID = "other-cli"
	stWantErr(t, "Create with a taken user code", s.Create(t.Context(), dup), domain.ErrUserCodeTaken)
	c.check("original after refused Create", now.Add(time.Second))
	_, err := s.Poll(t.Context(), dup.DeviceCodeHash, domain.PollRequest{ClientID: dup.ClientID, ClaimID: "x"}, now.Add(2*time.Second))
	stWantErr(t, "poll the refused flow", err, domain.ErrExpiredToken)
	// The taken code stays taken after the original changes state.
	stWantErr(t, "approve original", c.decide(domain.Decision{Approve: true, Subject: flowAccountSubject()}, now.Add(3*time.Second)), nil)
	stWantErr(t, "Create again", s.Create(t.Context(), dup), domain.ErrUserCodeTaken)
	c.check("original after second refused Create", now.Add(3*time.Second))
}

// flowUserCodeFreed: the user code of a flow that is gone (claimed and
// finished, denied and told so, or expired) is free again, although a store
// may still hold an index entry naming the old flow: a new flow takes it,
// and the code then names the new flow.
func flowUserCodeFreed(t *testing.T, s ports.Flows) {
	now := stNow()
	for _, how := range goneHow {
		old := goneFlow(t, s, now, how)
		f := NewFlow(t, now.Add(time.Second))
		f.UserCode = old.UserCode
		c := startFlow(t, s, f)
		stWantErr(t, "pending poll of the new flow", c.poll(FlowClient, "x", now.Add(2*time.Second)), domain.ErrAuthorizationPending)
		_, err := s.Poll(t.Context(), old.DeviceCodeHash, domain.PollRequest{ClientID: FlowClient, ClaimID: "x"}, now.Add(2*time.Second))
		stWantErr(t, "poll the "+how+" flow", err, domain.ErrExpiredToken)
	}
}

// goneHow lists the ways goneFlow ends a flow.
var goneHow = []string{"finished", "denied", "expired"}

// goneFlow creates a flow at now and ends it, "finished" (approved,
// claimed, finished), "denied" (denied, then polled once) or "expired"
// (created one flow lifetime and a second before now), and returns it.
func goneFlow(t testing.TB, s ports.Flows, now time.Time, how string) domain.Flow {
	t.Helper()
	if how == "expired" { // not checked: a store may drop it at once
		f := NewFlow(t, now.Add(-domain.FlowLifetime-time.Second))
		stWantErr(t, "Create an expired flow", s.Create(t.Context(), f), nil)
		return f
	}
	f := NewFlow(t, now)
	c := startFlow(t, s, f)
	switch how {
	case "finished":
		stWantErr(t, "approve", c.decide(approveDecision(), now), nil)
		stWantErr(t, "claim", c.poll(FlowClient, "claim", now), nil)
		stWantErr(t, "finish", c.finish("claim", now), nil)
	case "denied":
		stWantErr(t, "deny", c.decide(denyDecision(), now), nil)
		stWantErr(t, "poll the denied flow", c.poll(FlowClient, "x", now), domain.ErrAccessDenied)
	default:
		t.Fatalf("test bug: goneFlow %q", how)
	}
	return f
}

// flowByUserCodeMissing: unknown codes and flows expired at now are not found.
func flowByUserCodeMissing(t *testing.T, s ports.Flows) {
	now := stNow()
	_, err := s.ByUserCode(t.Context(), NewFlow(t, now).UserCode, now)
	stWantErr(t, "ByUserCode unknown", err, domain.ErrNotFound)
	f := NewFlow(t, now)
	c := startFlow(t, s, f)
	c.check("one second before expiry", f.ExpiresAt.Add(-time.Second))
	_, err = s.ByUserCode(t.Context(), f.UserCode, f.ExpiresAt)
	stWantErr(t, "ByUserCode at ExpiresAt", err, domain.ErrNotFound)
	_, err = s.ByUserCode(t.Context(), f.UserCode, f.ExpiresAt.Add(time.Hour))
	stWantErr(t, "ByUserCode after expiry", err, domain.ErrNotFound)
}

// flowPollMissing: unknown and expired flows answer expired_token, whatever the client.
func flowPollMissing(t *testing.T, s ports.Flows) {
	now := stNow()
	_, err := s.Poll(t.Context(), domain.HashSecret("dc_unknown_"+stRandHex(16)), domain.PollRequest{ClientID: FlowClient, ClaimID: "x"}, now)
	stWantErr(t, "poll unknown", err, domain.ErrExpiredToken)
	c := startFlow(t, s, NewFlow(t, now))
	exp := c.want.ExpiresAt
	stWantErr(t, "poll just before expiry", c.poll(FlowClient, "x", exp.Add(-time.Millisecond)), domain.ErrAuthorizationPending)
	stWantErr(t, "poll at expiry, wrong client", c.poll("other-cli", "x", exp), domain.ErrExpiredToken)
	stWantErr(t, "poll after expiry", c.poll(FlowClient, "x", exp.Add(time.Minute)), domain.ErrExpiredToken)

	a := startFlow(t, s, NewFlow(t, now))
	stWantErr(t, "approve", a.decide(domain.Decision{Approve: true, Subject: flowAccountSubject()}, now), nil)
	stWantErr(t, "poll an approved flow after expiry", a.poll(FlowClient, "x", now.Add(domain.FlowLifetime)), domain.ErrExpiredToken)
}

// flowPollWrongClient: another client gets invalid_grant and changes nothing.
func flowPollWrongClient(t *testing.T, s ports.Flows) {
	now := stNow()
	c := startFlow(t, s, NewFlow(t, now))
	stWantErr(t, "wrong client", c.poll("other-cli", "x", now), domain.ErrInvalidGrant)
	if !c.want.LastPolledAt.IsZero() {
		t.Fatal("test bug: a wrong-client poll must not set LastPolledAt")
	}
	stWantErr(t, "right client at the same now", c.poll(FlowClient, "x", now), domain.ErrAuthorizationPending)
	stWantErr(t, "wrong client again", c.poll("other-cli", "x", now.Add(time.Second)), domain.ErrInvalidGrant)
	stWantErr(t, "right client after the interval", c.poll(FlowClient, "x", now.Add(5*time.Second)), domain.ErrAuthorizationPending)
	stWantErr(t, "approve", c.decide(domain.Decision{Approve: true, Subject: flowAccountSubject()}, now.Add(6*time.Second)), nil)
	stWantErr(t, "wrong client on an approved flow", c.poll("other-cli", "x", now.Add(10*time.Second)), domain.ErrInvalidGrant)
	stWantErr(t, "right client claims", c.poll(FlowClient, "claim", now.Add(10*time.Second)), nil)
}

// flowPollSlowDown: a poll sooner than the interval is slow_down and grows
// the interval by 5 s each time; the previous-poll time moves on every poll.
func flowPollSlowDown(t *testing.T, s ports.Flows) {
	t0 := stNow()
	c := startFlow(t, s, NewFlow(t, t0))
	interval := func(want time.Duration) {
		t.Helper()
		got, err := s.ByUserCode(t.Context(), c.code, t0)
		stWantErr(t, "ByUserCode", err, nil)
		if got.Interval != want {
			t.Fatalf("Interval = %v, want %v", got.Interval, want)
		}
	}
	stWantErr(t, "first poll", c.poll(FlowClient, "x", t0), domain.ErrAuthorizationPending)
	interval(5 * time.Second)
	t1 := t0.Add(time.Second)
	stWantErr(t, "poll after 1 s", c.poll(FlowClient, "x", t1), domain.ErrSlowDown)
	interval(10 * time.Second)
	t2 := t1.Add(6 * time.Second) // past the old 5 s, before the new 10 s
	stWantErr(t, "poll after 6 s (interval 10 s)", c.poll(FlowClient, "x", t2), domain.ErrSlowDown)
	interval(15 * time.Second)
	t3 := t2.Add(15*time.Second - domain.PollTolerance - time.Millisecond)
	stWantErr(t, "poll 1 ms before the interval's tolerance", c.poll(FlowClient, "x", t3), domain.ErrSlowDown)
	interval(20 * time.Second)
	t4 := t3.Add(20 * time.Second) // exactly the interval: not too soon
	stWantErr(t, "poll exactly at the interval", c.poll(FlowClient, "x", t4), domain.ErrAuthorizationPending)
	interval(20 * time.Second)
	// A ticker-driven client arriving a little early (jitter) is on time.
	t4 = t4.Add(20*time.Second - domain.PollTolerance)
	stWantErr(t, "poll early by exactly the tolerance", c.poll(FlowClient, "x", t4), domain.ErrAuthorizationPending)
	interval(20 * time.Second)
	stWantErr(t, "poll after the interval", c.poll(FlowClient, "x", t4.Add(25*time.Second)), domain.ErrAuthorizationPending)
	interval(20 * time.Second)
}

// flowApproveAndClaim: an approved flow is claimed by the next poll, which
// returns the flow with its subject and the given claim id.
func flowApproveAndClaim(t *testing.T, s ports.Flows) {
	now := stNow()
	c := startFlow(t, s, NewFlow(t, now))
	stWantErr(t, "pending poll", c.poll(FlowClient, "x", now), domain.ErrAuthorizationPending)
	subj := flowAccountSubject()
	stWantErr(t, "approve", c.decide(domain.Decision{Approve: true, Subject: subj}, now.Add(time.Second)), nil)
	stWantErr(t, "poll too soon after approval", c.poll(FlowClient, "x", now.Add(2*time.Second)), domain.ErrSlowDown)
	claimID := "claim-" + stRandHex(8)
	at := now.Add(12 * time.Second)
	got, err := s.Poll(t.Context(), c.hash, domain.PollRequest{ClientID: FlowClient, ClaimID: claimID}, at)
	stWantErr(t, "claiming poll", err, nil)
	if got.ClaimID != claimID || got.Status != domain.FlowClaimed || !stSameTime(got.ClaimExpiresAt, at.Add(domain.ClaimLease)) {
		t.Fatalf("claimed flow: ClaimID %q Status %q ClaimExpiresAt %v; want %q, claimed, %v",
			got.ClaimID, got.Status, got.ClaimExpiresAt, claimID, at.Add(domain.ClaimLease))
	}
	if d := flowSubjectDiff(subj, got.Subject); d != nil {
		t.Fatalf("claimed flow subject: %v", d)
	}
	step := domain.Poll(c.want, domain.PollRequest{ClientID: FlowClient, ClaimID: claimID}, at)
	c.want = &step.Next
	c.check("after claim", at)
	stWantErr(t, "poll while claimed", c.poll(FlowClient, "y", at.Add(10*time.Second)), domain.ErrAuthorizationPending)
	stWantErr(t, "finish", c.finish(claimID, at.Add(11*time.Second)), nil)
	stWantErr(t, "poll after finish", c.poll(FlowClient, "z", at.Add(20*time.Second)), domain.ErrExpiredToken)
}
