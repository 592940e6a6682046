package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func pending() *domain.Flow {
	f := domain.NewFlow("h", "ABCD-EFGH", "difyctl", "laptop", "10.0.0.1", t0)
	return &f
}

func withStatus(s domain.FlowStatus) *domain.Flow {
	f := pending()
	f.Status = s
	if s == domain.FlowApproved || s == domain.FlowClaimed {
		f.Subject = &domain.Subject{Type: domain.SubjectAccount, Email: "a@b.c", AccountID: "acc"}
	}
	return f
}

func TestPollRules(t *testing.T) {
	polled := func(f *domain.Flow, at time.Time) *domain.Flow { f.LastPolledAt = at; return f }
	claimed := func(until time.Time) *domain.Flow {
		f := withStatus(domain.FlowClaimed)
		f.ClaimID, f.ClaimExpiresAt = "old", until
		return f
	}
	cases := []struct {
		name       string
		flow       *domain.Flow
		client     string
		now        time.Time
		err        error
		del, store bool
		status     domain.FlowStatus
		interval   time.Duration
	}{
		{"unknown", nil, "difyctl", t0, domain.ErrExpiredToken, false, false, "", 0},
		{"expired", pending(), "difyctl", t0.Add(domain.FlowLifetime), domain.ErrExpiredToken, true, false, "", 0},
		{"wrong client", pending(), "other", t0, domain.ErrInvalidGrant, false, false, "", 0},
		{"expired beats wrong client", pending(), "other", t0.Add(time.Hour), domain.ErrExpiredToken, true, false, "", 0},
		{"first poll pending", pending(), "difyctl", t0, domain.ErrAuthorizationPending, false, true, domain.FlowPending, 5 * time.Second},
		{"too soon", polled(pending(), t0), "difyctl", t0.Add(4 * time.Second), domain.ErrSlowDown, false, true, domain.FlowPending, 10 * time.Second},
		{"on time", polled(pending(), t0), "difyctl", t0.Add(5 * time.Second), domain.ErrAuthorizationPending, false, true, domain.FlowPending, 5 * time.Second},
		// A client on a ticker arrives a little early now and then (network
		// jitter): within domain.PollTolerance of the interval is on time.
		{"within the tolerance", polled(pending(), t0), "difyctl", t0.Add(5*time.Second - domain.PollTolerance), domain.ErrAuthorizationPending, false, true, domain.FlowPending, 5 * time.Second},
		{"just past the tolerance", polled(pending(), t0), "difyctl", t0.Add(5*time.Second - domain.PollTolerance - time.Millisecond), domain.ErrSlowDown, false, true, domain.FlowPending, 10 * time.Second},
		{"too soon beats approved", polled(withStatus(domain.FlowApproved), t0), "difyctl", t0.Add(time.Second), domain.ErrSlowDown, false, true, domain.FlowApproved, 10 * time.Second},
		{"denied", withStatus(domain.FlowDenied), "difyctl", t0, domain.ErrAccessDenied, true, false, "", 0},
		{"approved claims", withStatus(domain.FlowApproved), "difyctl", t0, nil, false, true, domain.FlowClaimed, 5 * time.Second},
		{"claimed lease live", claimed(t0.Add(time.Second)), "difyctl", t0, domain.ErrAuthorizationPending, false, true, domain.FlowClaimed, 5 * time.Second},
		{"claimed lease over", claimed(t0), "difyctl", t0, nil, false, true, domain.FlowClaimed, 5 * time.Second},
		{"expired while claimed keeps the flow", claimed(t0.Add(domain.FlowLifetime + time.Second)), "difyctl", t0.Add(domain.FlowLifetime), domain.ErrExpiredToken, false, false, "", 0},
		{"expired after the lease deletes", claimed(t0.Add(domain.FlowLifetime)), "difyctl", t0.Add(domain.FlowLifetime), domain.ErrExpiredToken, true, false, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := domain.Poll(c.flow, domain.PollRequest{ClientID: c.client, ClaimID: "new"}, c.now)
			if !errors.Is(st.Err, c.err) || st.Err != nil && c.err == nil {
				t.Fatalf("err = %v, want %v", st.Err, c.err)
			}
			if st.Delete != c.del || st.Store != c.store {
				t.Fatalf("delete=%v store=%v, want %v %v", st.Delete, st.Store, c.del, c.store)
			}
			if !c.store {
				return
			}
			if st.Next.Status != c.status || st.Next.Interval != c.interval || !st.Next.LastPolledAt.Equal(c.now) {
				t.Fatalf("next = %+v", st.Next)
			}
			if c.err == nil && (st.Next.ClaimID != "new" || !st.Next.ClaimExpiresAt.Equal(c.now.Add(domain.ClaimLease))) {
				t.Fatalf("claim not taken: %+v", st.Next)
			}
		})
	}
}

func TestSlowDownKeepsGrowing(t *testing.T) {
	f := pending()
	now := t0
	st := domain.Poll(f, domain.PollRequest{ClientID: "difyctl", ClaimID: "c"}, now)
	for i, want := range []time.Duration{10, 15, 20} {
		now = now.Add(time.Second)
		next := st.Next
		st = domain.Poll(&next, domain.PollRequest{ClientID: "difyctl", ClaimID: "c"}, now)
		if !errors.Is(st.Err, domain.ErrSlowDown) || st.Next.Interval != want*time.Second {
			t.Fatalf("poll %d: %v interval %v", i, st.Err, st.Next.Interval)
		}
	}
	next := st.Next
	st = domain.Poll(&next, domain.PollRequest{ClientID: "difyctl", ClaimID: "c"}, now.Add(19*time.Second))
	if !errors.Is(st.Err, domain.ErrSlowDown) {
		t.Fatalf("19 s < 20 s interval must still slow down: %v", st.Err)
	}
	next = st.Next
	if st = domain.Poll(&next, domain.PollRequest{ClientID: "difyctl", ClaimID: "c"}, now.Add(44*time.Second)); !errors.Is(st.Err, domain.ErrAuthorizationPending) || st.Next.Interval != 25*time.Second {
		t.Fatalf("after the grown interval: %v", st.Err)
	}
}

func TestClaimFinishRelease(t *testing.T) {
	f := withStatus(domain.FlowApproved)
	st := domain.Poll(f, domain.PollRequest{ClientID: "difyctl", ClaimID: "c1"}, t0)
	if st.Err != nil {
		t.Fatal(st.Err)
	}
	if err := domain.FinishClaim(&st.Next, "c2"); !errors.Is(err, domain.ErrClaimLost) {
		t.Fatalf("foreign finish: %v", err)
	}
	if err := domain.FinishClaim(&st.Next, "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := domain.ReleaseClaim(&st.Next, "c2"); !errors.Is(err, domain.ErrClaimLost) {
		t.Fatalf("foreign release: %v", err)
	}
	back, err := domain.ReleaseClaim(&st.Next, "c1")
	if err != nil || back.Status != domain.FlowApproved || back.ClaimID != "" {
		t.Fatalf("release: %+v %v", back, err)
	}
	if err := domain.FinishClaim(nil, "c1"); !errors.Is(err, domain.ErrClaimLost) {
		t.Fatal("finish on a deleted flow")
	}
}

func TestDecide(t *testing.T) {
	s := &domain.Subject{Type: domain.SubjectAccount, Email: "a@b.c"}
	next, err := domain.Decide(pending(), domain.Decision{Approve: true, Subject: s}, t0)
	if err != nil || next.Status != domain.FlowApproved || next.Subject.Email != "a@b.c" {
		t.Fatalf("approve: %+v %v", next, err)
	}
	if next, err = domain.Decide(pending(), domain.Decision{}, t0); err != nil || next.Status != domain.FlowDenied {
		t.Fatalf("deny: %v", err)
	}
	if _, err := domain.Decide(withStatus(domain.FlowApproved), domain.Decision{}, t0); !errors.Is(err, domain.ErrAlreadyResolved) {
		t.Fatalf("twice: %v", err)
	}
	if _, err := domain.Decide(pending(), domain.Decision{}, t0.Add(domain.FlowLifetime)); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("expired: %v", err)
	}
	if _, err := domain.Decide(nil, domain.Decision{}, t0); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
}

func TestRemaining(t *testing.T) {
	f := pending()
	if got := f.Remaining(t0.Add(100 * time.Second)); got != 800 {
		t.Fatalf("remaining %d", got)
	}
	if got := f.Remaining(t0.Add(time.Hour)); got != 0 {
		t.Fatalf("remaining %d", got)
	}
}

func TestDefaultWorkspace(t *testing.T) {
	ws := []domain.Workspace{{ID: "a"}, {ID: "b", Current: true}, {ID: "c"}}
	for _, c := range []struct {
		ws     []domain.Workspace
		active string
		want   string
	}{
		{ws, "c", "c"}, {ws, "zzz", "b"}, {ws, "", "b"}, {ws[:1], "", "a"}, {nil, "x", ""},
	} {
		if got := domain.DefaultWorkspace(c.ws, c.active); got != c.want {
			t.Errorf("DefaultWorkspace(%v,%q)=%q want %q", c.ws, c.active, got, c.want)
		}
	}
}
