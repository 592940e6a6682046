package porttest

import (
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// flowClaimOutlivesExpiry: a claim taken just before its flow expires can
// still be finished, or released, after the expiry while its lease runs:
// domain.FinishClaim and ReleaseClaim do not look at ExpiresAt, and by then
// the claimant has minted (and maybe rotated a live token in place). A store
// that drops the claimed flow at ExpiresAt makes that poll answer
// authorization_pending and strands a token no one receives. So a store
// keeps a claimed flow until its ClaimExpiresAt (a real-time TTL taken from
// ExpiresAt must add domain.ClaimLease), and no read of the expired flow may
// drop it early. The flows here live one real second and the check waits for
// that second to pass: it is the one flow check that sleeps.
func flowClaimOutlivesExpiry(t *testing.T, s ports.Flows) {
	const life = time.Second
	now := time.Now().Truncate(time.Millisecond)
	approved := func() *flowCase {
		t.Helper()
		f := NewFlow(t, now)
		f.ExpiresAt = now.Add(life)
		c := startFlow(t, s, f)
		stWantErr(t, "approve", c.decide(approveDecision(), now), nil)
		return c
	}
	fin, rel := approved(), approved()
	last := now.Add(life - time.Millisecond)
	a, b := "claim-a-"+stRandHex(8), "claim-b-"+stRandHex(8)
	stWantErr(t, "claim 1 ms before the expiry", fin.poll(FlowClient, a, last), nil)
	stWantErr(t, "claim 1 ms before the expiry", rel.poll(FlowClient, b, last), nil)

	time.Sleep(time.Until(now.Add(life + 300*time.Millisecond)))
	after := time.Now()
	fin.check("lookup after the expiry", after)
	rel.check("lookup after the expiry", after)
	// A second poll after the expiry is told expired_token but must not
	// delete the flow under the running claim.
	stWantErr(t, "another poll after the expiry, within the lease", fin.poll(FlowClient, "intruder", after), domain.ErrExpiredToken)
	stWantErr(t, "finish after the expiry, within the lease", fin.finish(a, after), nil)
	stWantErr(t, "release after the expiry, within the lease", rel.release(b, after), nil)
	stWantErr(t, "poll the released flow after the expiry", rel.poll(FlowClient, "late", after), domain.ErrExpiredToken)
}
