package porttest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// FlowClient is the client id of every flow NewFlow creates.
const FlowClient = "porttest-cli"

// stNow is the suite's clock origin: near real time (stores may set
// real-time TTLs from ExpiresAt) and whole seconds (stores may keep ms).
func stNow() time.Time { return time.Now().Truncate(time.Second) }

// stRandHex returns 2n hex digits from crypto/rand, so suites sharing one
// backend (Redis) never collide on keys.
func stRandHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return hex.EncodeToString(b)
}

// NewFlow returns a pending flow created at now with a fresh user code and
// device code (client id FlowClient), for the suites and for an adapter's
// own tests beside them.
func NewFlow(t testing.TB, now time.Time) domain.Flow {
	t.Helper()
	code, err := domain.NewUserCode(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := domain.NewDeviceCode(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return domain.NewFlow(domain.HashSecret(dc), code, FlowClient, `porttest "device" ✓`, "2001:db8::7", now)
}

// flowAccountSubject returns an account subject with two workspaces.
func flowAccountSubject() *domain.Subject {
	id := stRandHex(8)
	ws := []domain.Workspace{
		{ID: "ws-a-" + id, Name: "Équipe A", Role: "owner"},
		{ID: "ws-b-" + id, Name: "Team B", Role: "normal", Current: true},
	}
	s := domain.AccountSubject(domain.Account{ID: "acct-" + id, Email: id + "@example.com", Name: "Zoë " + id, Active: true}, ws, "ws-a-"+id)
	return &s
}

// flowExternalSubject returns an external-SSO subject (no account, no workspaces).
func flowExternalSubject() *domain.Subject {
	id := stRandHex(8)
	return &domain.Subject{Type: domain.SubjectExternalSSO, Email: id + "@sso.example.com", Issuer: "https://idp.example.com/" + id}
}

// stSameTime compares times at millisecond precision; zero matches only zero.
func stSameTime(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() && b.IsZero()
	}
	return a.Truncate(time.Millisecond).Equal(b.Truncate(time.Millisecond))
}

// flowSubjectDiff lists how got differs from want (nil and empty workspaces match).
func flowSubjectDiff(want, got *domain.Subject) []string {
	if want == nil || got == nil {
		if want != got {
			return []string{fmt.Sprintf("Subject: want %v, got %v", want, got)}
		}
		return nil
	}
	var d []string
	w, g := *want, *got
	if w.Type != g.Type || w.Email != g.Email || w.Issuer != g.Issuer || w.AccountID != g.AccountID ||
		w.AccountName != g.AccountName || w.DefaultWorkspaceID != g.DefaultWorkspaceID {
		w.Workspaces, g.Workspaces = nil, nil
		d = append(d, fmt.Sprintf("Subject: want %+v, got %+v", w, g))
	}
	if len(want.Workspaces) != len(got.Workspaces) {
		return append(d, fmt.Sprintf("Subject.Workspaces: want %+v, got %+v", want.Workspaces, got.Workspaces))
	}
	for i := range want.Workspaces {
		if want.Workspaces[i] != got.Workspaces[i] {
			d = append(d, fmt.Sprintf("Subject.Workspaces[%d]: want %+v, got %+v", i, want.Workspaces[i], got.Workspaces[i]))
		}
	}
	return d
}

// flowAssert fails t unless got restates want field by field.
func flowAssert(t testing.TB, what string, want, got domain.Flow) {
	t.Helper()
	var d []string
	str := func(name, w, g string) {
		if w != g {
			d = append(d, fmt.Sprintf("%s: want %q, got %q", name, w, g))
		}
	}
	tm := func(name string, w, g time.Time) {
		if !stSameTime(w, g) {
			d = append(d, fmt.Sprintf("%s: want %v, got %v", name, w, g))
		}
	}
	str("DeviceCodeHash", want.DeviceCodeHash, got.DeviceCodeHash)
	str("UserCode", want.UserCode, got.UserCode)
	str("ClientID", want.ClientID, got.ClientID)
	str("DeviceLabel", want.DeviceLabel, got.DeviceLabel)
	str("CreatedIP", want.CreatedIP, got.CreatedIP)
	str("Status", string(want.Status), string(got.Status))
	str("ClaimID", want.ClaimID, got.ClaimID)
	str("CodeChallenge", want.CodeChallenge, got.CodeChallenge)
	tm("CreatedAt", want.CreatedAt, got.CreatedAt)
	tm("ExpiresAt", want.ExpiresAt, got.ExpiresAt)
	tm("LastPolledAt", want.LastPolledAt, got.LastPolledAt)
	tm("ClaimExpiresAt", want.ClaimExpiresAt, got.ClaimExpiresAt)
	if want.Interval != got.Interval {
		d = append(d, fmt.Sprintf("Interval: want %v, got %v", want.Interval, got.Interval))
	}
	d = append(d, flowSubjectDiff(want.Subject, got.Subject)...)
	for _, line := range d {
		t.Errorf("%s: %s", what, line)
	}
	if len(d) > 0 {
		t.FailNow()
	}
}

// stWantErr fails t unless errors.Is(got, want) (want nil: got must be nil).
func stWantErr(t testing.TB, what string, got, want error) {
	t.Helper()
	if !errors.Is(got, want) {
		t.Fatalf("%s: got error %v, want %v", what, got, want)
	}
}

// flowCase drives one flow through a store and, alongside, through the domain
// functions (the specification), failing on the first disagreement.
type flowCase struct {
	t    testing.TB
	s    ports.Flows
	hash string
	code string
	want *domain.Flow // the flow per the domain; nil once deleted
	t0   time.Time    // the flow's CreatedAt, the origin of times in messages
	// verifier is the S256 of the code_verifier that poll sends: the
	// flow's own challenge, so its rightful client's polls match it.
	verifier string
}

// startFlow creates f in s and checks the round trip.
func startFlow(t testing.TB, s ports.Flows, f domain.Flow) *flowCase {
	t.Helper()
	stWantErr(t, "Create", s.Create(t.Context(), f), nil)
	c := &flowCase{t: t, s: s, hash: f.DeviceCodeHash, code: f.UserCode, want: &f, t0: f.CreatedAt, verifier: f.CodeChallenge}
	c.check("after Create", f.CreatedAt)
	return c
}

// check compares ByUserCode at now with the domain's flow.
func (c *flowCase) check(what string, now time.Time) {
	c.t.Helper()
	got, err := c.s.ByUserCode(c.t.Context(), c.code, now)
	if c.want == nil || c.want.Expired(now) {
		stWantErr(c.t, what+": ByUserCode", err, domain.ErrNotFound)
		return
	}
	stWantErr(c.t, what+": ByUserCode", err, nil)
	flowAssert(c.t, what+": ByUserCode", *c.want, got)
}

// poll polls the store and the domain, with the flow's own verifier, and
// returns the (agreed) answer.
func (c *flowCase) poll(clientID, claimID string, now time.Time) error {
	c.t.Helper()
	return c.pollReq(domain.PollRequest{ClientID: clientID, ClaimID: claimID, VerifierChallenge: c.verifier}, now)
}

// pollReq polls the store and the domain with req and returns the (agreed) answer.
func (c *flowCase) pollReq(req domain.PollRequest, now time.Time) error {
	c.t.Helper()
	what := fmt.Sprintf("Poll(client %q, verifier %q) at +%v", req.ClientID, req.VerifierChallenge, now.Sub(c.t0))
	step := domain.Poll(c.want, req, now)
	got, err := c.s.Poll(c.t.Context(), c.hash, req, now)
	stWantErr(c.t, what, err, step.Err)
	switch {
	case step.Delete:
		c.want = nil
	case step.Store:
		next := step.Next
		c.want = &next
	}
	if step.Err == nil {
		flowAssert(c.t, what+": claimed flow", step.Next, got)
	}
	c.check(what, now)
	return err
}

// decide decides in the store and the domain and returns the (agreed) answer.
func (c *flowCase) decide(d domain.Decision, now time.Time) error {
	c.t.Helper()
	what := fmt.Sprintf("Decide(approve=%v) at +%v", d.Approve, now.Sub(c.t0))
	next, werr := domain.Decide(c.want, d, now)
	got, err := c.s.Decide(c.t.Context(), c.code, d, now)
	stWantErr(c.t, what, err, werr)
	if werr == nil {
		c.want = &next
		flowAssert(c.t, what+": returned flow", next, got)
	}
	c.check(what, now)
	return err
}

// finish finishes a claim in the store and the domain; now is for the check.
func (c *flowCase) finish(claimID string, now time.Time) error {
	c.t.Helper()
	werr := domain.FinishClaim(c.want, claimID)
	err := c.s.FinishClaim(c.t.Context(), c.hash, claimID)
	stWantErr(c.t, "FinishClaim", err, werr)
	if werr == nil {
		c.want = nil
	}
	c.check("FinishClaim", now)
	return err
}

// release releases a claim in the store and the domain; now is for the check.
func (c *flowCase) release(claimID string, now time.Time) error {
	c.t.Helper()
	next, werr := domain.ReleaseClaim(c.want, claimID)
	err := c.s.ReleaseClaim(c.t.Context(), c.hash, claimID)
	stWantErr(c.t, "ReleaseClaim", err, werr)
	if werr == nil {
		c.want = &next
	}
	c.check("ReleaseClaim", now)
	return err
}
