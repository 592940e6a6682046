package porttest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// stRace runs fn(i) for i in [0, n) on n goroutines released together and
// returns once all are done.
func stRace(n int, fn func(i int)) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			fn(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
}

// flowRacePollPending: 50 polls of one pending flow at the same now. Exactly
// one is first (pending); every other is too soon, and no slow_down is lost:
// the interval grows by 5 s for each of them.
func flowRacePollPending(t *testing.T, s ports.Flows) {
	const n = 50
	now := stNow()
	f := NewFlow(t, now)
	stWantErr(t, "Create", s.Create(t.Context(), f), nil)
	errs := make([]error, n)
	stRace(n, func(i int) {
		_, errs[i] = s.Poll(t.Context(), f.DeviceCodeHash, domain.PollRequest{ClientID: FlowClient, ClaimID: fmt.Sprint("claim-", i)}, now)
	})
	pending, slow := 0, 0
	for i, err := range errs {
		switch {
		case errors.Is(err, domain.ErrAuthorizationPending):
			pending++
		case errors.Is(err, domain.ErrSlowDown):
			slow++
		default:
			t.Errorf("poll %d: got %v, want authorization_pending or slow_down", i, err)
		}
	}
	if pending != 1 || slow != n-1 {
		t.Fatalf("got %d pending and %d slow_down, want 1 and %d", pending, slow, n-1)
	}
	got, err := s.ByUserCode(t.Context(), f.UserCode, now)
	stWantErr(t, "ByUserCode", err, nil)
	if want := domain.DefaultInterval + (n-1)*domain.SlowDownStep; got.Interval != want {
		t.Fatalf("Interval = %v after %d slow_downs, want %v (a lost update)", got.Interval, n-1, want)
	}
}

// flowRacePollClaim: 50 polls of one approved flow at the same now with
// distinct claim ids: exactly one claims; losers cannot finish; the winner can.
func flowRacePollClaim(t *testing.T, s ports.Flows) {
	const n = 50
	now := stNow()
	f := NewFlow(t, now)
	stWantErr(t, "Create", s.Create(t.Context(), f), nil)
	subj := flowAccountSubject()
	_, err := s.Decide(t.Context(), f.UserCode, domain.Decision{Approve: true, Subject: subj}, now)
	stWantErr(t, "approve", err, nil)
	flows := make([]domain.Flow, n)
	errs := make([]error, n)
	claimID := func(i int) string { return fmt.Sprint("claim-", i) }
	stRace(n, func(i int) {
		flows[i], errs[i] = s.Poll(t.Context(), f.DeviceCodeHash, domain.PollRequest{ClientID: FlowClient, ClaimID: claimID(i)}, now)
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("polls %d and %d both claimed the approval", winner, i)
			}
			winner = i
		case errors.Is(err, domain.ErrSlowDown), errors.Is(err, domain.ErrAuthorizationPending):
		default:
			t.Fatalf("poll %d: got %v, want nil, slow_down or authorization_pending", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no poll claimed the approval")
	}
	w := flows[winner]
	if w.ClaimID != claimID(winner) || w.Status != domain.FlowClaimed || flowSubjectDiff(subj, w.Subject) != nil {
		t.Fatalf("winner's flow: ClaimID %q Status %q Subject %+v", w.ClaimID, w.Status, w.Subject)
	}
	loser := (winner + 1) % n
	stWantErr(t, "finish by a loser", s.FinishClaim(t.Context(), f.DeviceCodeHash, claimID(loser)), domain.ErrClaimLost)
	stWantErr(t, "finish by the winner", s.FinishClaim(t.Context(), f.DeviceCodeHash, claimID(winner)), nil)
	_, err = s.Poll(t.Context(), f.DeviceCodeHash, domain.PollRequest{ClientID: FlowClient, ClaimID: "late"}, now.Add(time.Minute))
	stWantErr(t, "poll after finish", err, domain.ErrExpiredToken)
}

// flowRaceDecide: 25 approvals (distinct subjects) race 25 denials on one
// flow: exactly one decision wins and the stored flow is the winner's.
func flowRaceDecide(t *testing.T, s ports.Flows) {
	const n = 50
	now := stNow()
	f := NewFlow(t, now)
	stWantErr(t, "Create", s.Create(t.Context(), f), nil)
	decisions := make([]domain.Decision, n)
	for i := range decisions {
		if i%2 == 0 {
			decisions[i] = approveDecision()
		}
	}
	results := make([]domain.Flow, n)
	errs := make([]error, n)
	stRace(n, func(i int) {
		results[i], errs[i] = s.Decide(t.Context(), f.UserCode, decisions[i], now)
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("decisions %d and %d both succeeded", winner, i)
			}
			winner = i
		case !errors.Is(err, domain.ErrAlreadyResolved):
			t.Fatalf("decision %d: got %v, want nil or already resolved", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no decision succeeded")
	}
	want, err := domain.Decide(&f, decisions[winner], now)
	stWantErr(t, "domain.Decide", err, nil)
	flowAssert(t, "winner's returned flow", want, results[winner])
	got, err := s.ByUserCode(t.Context(), f.UserCode, now)
	stWantErr(t, "ByUserCode", err, nil)
	flowAssert(t, "stored flow", want, got)
}

// flowRaceCreate: 50 flows with one user code race to be created: exactly
// one is stored; the others wrote nothing.
func flowRaceCreate(t *testing.T, s ports.Flows) {
	raceCreate(t, s, "", 50, "", stNow())
}

// flowRaceCreateRounds: 160 rounds of 4 flows racing for one user code,
// which is fresh, or held by a flow that is gone (see goneFlow: the racers
// race to take it over). Each round stores exactly one of them.
func flowRaceCreateRounds(t *testing.T, s ports.Flows) {
	now := stNow()
	for round := range 160 {
		code := ""
		if k := round % (len(goneHow) + 1); k > 0 {
			code = goneFlow(t, s, now, goneHow[k-1]).UserCode
		}
		raceCreate(t, s, fmt.Sprintf("round %d: ", round), 4, code, now)
	}
}

// raceCreate races n new flows at now for one user code (code, or a fresh
// one if ""), and checks that exactly one was stored and that the others
// left no flow behind; what prefixes the failure messages.
func raceCreate(t *testing.T, s ports.Flows, what string, n int, code string, now time.Time) {
	t.Helper()
	flows := make([]domain.Flow, n)
	for i := range flows {
		flows[i] = NewFlow(t, now)
		if code == "" {
			code = flows[i].UserCode
		}
		flows[i].UserCode = code
	}
	errs := make([]error, n)
	stRace(n, func(i int) { errs[i] = s.Create(t.Context(), flows[i]) })
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("%screates %d and %d both succeeded", what, winner, i)
			}
			winner = i
		case !errors.Is(err, domain.ErrUserCodeTaken):
			t.Fatalf("%screate %d: got %v, want nil or user code taken", what, i, err)
		}
	}
	if winner < 0 {
		t.Fatal(what + "no create succeeded")
	}
	got, err := s.ByUserCode(t.Context(), code, now)
	stWantErr(t, what+"ByUserCode", err, nil)
	flowAssert(t, what+"stored flow", flows[winner], got)
	for i, fl := range flows {
		_, err := s.Poll(t.Context(), fl.DeviceCodeHash, domain.PollRequest{ClientID: FlowClient, ClaimID: "x"}, now)
		want := domain.ErrExpiredToken
		if i == winner {
			want = domain.ErrAuthorizationPending
		}
		stWantErr(t, fmt.Sprintf("%spoll flow %d", what, i), err, want)
	}
}
