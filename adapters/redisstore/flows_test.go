package redisstore

import (
	"errors"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports/porttest"
)

// TestFlowKeys pins the key layout: a flow hash and a user-code index entry,
// both hash-addressed, the index with a TTL of the flow's lifetime and the
// flow hash with one claim lease more (a claim taken at the last moment must
// still be finished), so Redis frees them even if nobody polls.
func TestFlowKeys(t *testing.T) {
	c, prefix := newTestClient(t)
	s := NewFlows(c, prefix)
	now := time.Now().Truncate(time.Second)
	f := porttest.NewFlow(t, now)
	if err := s.Create(t.Context(), f); err != nil {
		t.Fatal(err)
	}
	fk, uk := prefix+"flow:{"+f.DeviceCodeHash+"}", prefix+"uc:{"+domain.HashSecret(f.UserCode)+"}"
	for k, want := range map[string]time.Duration{uk: domain.FlowLifetime, fk: domain.FlowLifetime + domain.ClaimLease} {
		ttl, err := c.Do(t.Context(), c.B().Pttl().Key(k).Build()).AsInt64()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= int64((want-10*time.Second)/time.Millisecond) || ttl > int64(want/time.Millisecond) {
			t.Errorf("PTTL %s = %d ms, want about %v", k, ttl, want)
		}
	}
	if h, err := c.Do(t.Context(), c.B().Get().Key(uk).Build()).ToString(); err != nil || h != f.DeviceCodeHash {
		t.Errorf("user-code index holds %q (%v), want the device code hash", h, err)
	}
	if uc, err := c.Do(t.Context(), c.B().Hget().Key(fk).Field(fUserCode).Build()).ToString(); err != nil || uc != f.UserCode {
		t.Errorf("flow hash user code %q (%v), want %q", uc, err, f.UserCode)
	}
}

// TestFlowUserCodeFreed: a user code is free again once its flow is gone
// (finished, denied, expired) or was left without its flow (a crash between
// Create's two writes), and is still refused while a live flow holds it.
func TestFlowUserCodeFreed(t *testing.T) {
	c, prefix := newTestClient(t)
	s := NewFlows(c, prefix)
	now := time.Now().Truncate(time.Second)
	sameCode := func(f domain.Flow, at time.Time) domain.Flow {
		g := porttest.NewFlow(t, at)
		g.UserCode = f.UserCode
		return g
	}
	mustCreate := func(what string, f domain.Flow) {
		t.Helper()
		if err := s.Create(t.Context(), f); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got, err := s.ByUserCode(t.Context(), f.UserCode, f.CreatedAt); err != nil || got.DeviceCodeHash != f.DeviceCodeHash {
			t.Fatalf("%s: the user code resolves to %q (%v), want the new flow", what, got.DeviceCodeHash, err)
		}
	}

	// finished
	f := porttest.NewFlow(t, now)
	mustCreate("first flow", f)
	if err := s.Create(t.Context(), sameCode(f, now)); !errors.Is(err, domain.ErrUserCodeTaken) {
		t.Fatalf("Create over a live flow: %v, want ErrUserCodeTaken", err)
	}
	subj := &domain.Subject{Type: domain.SubjectExternalSSO, Email: "x@example.com", Issuer: "https://idp.example.com"}
	if _, err := s.Decide(t.Context(), f.UserCode, domain.Decision{Approve: true, Subject: subj}, now); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.Poll(t.Context(), f.DeviceCodeHash, domain.PollRequest{ClientID: f.ClientID, ClaimID: "claim"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FinishClaim(t.Context(), f.DeviceCodeHash, claimed.ClaimID); err != nil {
		t.Fatal(err)
	}
	g := sameCode(f, now)
	mustCreate("after finish", g)

	// denied
	if _, err := s.Decide(t.Context(), g.UserCode, domain.Decision{}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Poll(t.Context(), g.DeviceCodeHash, domain.PollRequest{ClientID: g.ClientID, ClaimID: "x"}, now); !errors.Is(err, domain.ErrAccessDenied) {
		t.Fatalf("poll a denied flow: %v", err)
	}
	h := sameCode(g, now)
	mustCreate("after deny", h)

	// expired at the new flow's creation time, still in Redis
	i := sameCode(h, h.ExpiresAt)
	mustCreate("after expiry", i)

	// orphaned index entry (its flow hash is gone)
	c.Do(t.Context(), c.B().Del().Key(prefix+"flow:{"+i.DeviceCodeHash+"}").Build())
	mustCreate("after an orphaned index entry", sameCode(i, now))
}
