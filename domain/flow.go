package domain

import (
	"crypto/subtle"
	"strings"
	"time"
)

// FlowStatus is the state of a device flow.
type FlowStatus string

// Flow states. APPROVED -> CLAIMED -> consumed (deleted); DENIED is deleted on the next poll.
const (
	FlowPending  FlowStatus = "pending"
	FlowApproved FlowStatus = "approved"
	FlowDenied   FlowStatus = "denied"
	FlowClaimed  FlowStatus = "claimed"
)

// Flow timing constants (SPEC 2.2, 2.3).
const (
	FlowLifetime    = 900 * time.Second
	DefaultInterval = 5 * time.Second
	SlowDownStep    = 5 * time.Second
	// PollTolerance is how much earlier than the interval a poll may arrive
	// and still be on time. Standard clients (golang.org/x/oauth2) poll on a
	// ticker, so network jitter alone makes some gaps a few milliseconds
	// short of the interval; without a tolerance such a client would be told
	// slow_down and then wait twice as long for no fault of its own.
	PollTolerance    = 500 * time.Millisecond
	ClaimLease       = 30 * time.Second
	MaxDeviceLabel   = 255
	GrantTypeDevice  = "urn:ietf:params:oauth:grant-type:device_code"
	maxClientIDBytes = 64
)

// Flow is one device authorization. It is addressed by DeviceCodeHash (the
// SHA-256 of the device code); the plaintext device code is never stored.
type Flow struct {
	DeviceCodeHash string
	UserCode       string
	ClientID       string
	DeviceLabel    string
	CreatedIP      string
	CreatedAt      time.Time
	ExpiresAt      time.Time
	Interval       time.Duration
	LastPolledAt   time.Time // zero until the first poll
	Status         FlowStatus
	Subject        *Subject // set once approved
	ClaimID        string   // set while claimed
	ClaimExpiresAt time.Time
	// CodeChallenge is the S256 PKCE challenge the client sent (RFC 7636),
	// "" when the flow has none. It is a hash: the verifier is never stored.
	CodeChallenge string
}

// NewFlow builds a pending flow created at now.
func NewFlow(deviceCodeHash, userCode, clientID, deviceLabel, ip string, now time.Time) Flow {
	return Flow{
		DeviceCodeHash: deviceCodeHash,
		UserCode:       userCode,
		ClientID:       clientID,
		DeviceLabel:    deviceLabel,
		CreatedIP:      ip,
		CreatedAt:      now,
		ExpiresAt:      now.Add(FlowLifetime),
		Interval:       DefaultInterval,
		Status:         FlowPending,
	}
}

// Expired reports whether the flow has passed its expiry at now.
func (f Flow) Expired(now time.Time) bool { return !now.Before(f.ExpiresAt) }

// Remaining returns the whole seconds left before expiry (never negative).
func (f Flow) Remaining(now time.Time) int {
	d := f.ExpiresAt.Sub(now)
	if d <= 0 {
		return 0
	}
	return int(d / time.Second)
}

// PollStep is the outcome of one poll on a stored flow.
type PollStep struct {
	// Next is the flow to store back; ignored when Delete is true.
	Next Flow
	// Delete asks the store to remove the flow.
	Delete bool
	// Err is the poll's answer: nil means the poll claimed the approval
	// (Next.Status == FlowClaimed, Next.ClaimID == the request's claim id).
	Err error
	// Store reports whether Next must be written back (false: leave the flow untouched).
	Store bool
}

// PollRequest is what one poll presents to the flow store.
type PollRequest struct {
	ClientID string
	// ClaimID is a fresh id, recorded should this poll claim the approval.
	ClaimID string
	// VerifierChallenge is PKCEChallenge of the poll's code_verifier, ""
	// when it sent none. Stores see only this hash, never the verifier.
	VerifierChallenge string
}

// Poll is the specification of one atomic poll (SPEC 2.3), as a pure
// function of the stored flow (nil when unknown), the request and now.
// Every flow-store adapter restates it atomically.
func Poll(f *Flow, req PollRequest, now time.Time) PollStep {
	if f == nil || f.Expired(now) {
		// An expired flow is deleted, except while a claim's lease runs: its
		// claimant is minting and must still be able to finish.
		return PollStep{Err: ErrExpiredToken, Delete: f != nil && !f.claimLive(now)}
	}
	if f.ClientID != req.ClientID {
		return PollStep{Err: ErrInvalidGrant}
	}
	// PKCE (RFC 7636 section 4.6), before anything changes: a flow with a
	// challenge needs the matching verifier, and a verifier on a flow
	// without one is refused too (PKCE downgrade, RFC 9700 section 4.8.2).
	if subtle.ConstantTimeCompare([]byte(f.CodeChallenge), []byte(req.VerifierChallenge)) != 1 {
		return PollStep{Err: ErrVerifierMismatch}
	}
	next := *f
	tooSoon := !f.LastPolledAt.IsZero() && now.Sub(f.LastPolledAt) < f.Interval-PollTolerance
	next.LastPolledAt = now
	if tooSoon {
		next.Interval += SlowDownStep
		return PollStep{Next: next, Store: true, Err: ErrSlowDown}
	}
	switch f.Status {
	case FlowDenied:
		return PollStep{Delete: true, Err: ErrAccessDenied}
	case FlowApproved:
		return claim(next, req.ClaimID, now)
	case FlowClaimed:
		if !now.Before(f.ClaimExpiresAt) {
			return claim(next, req.ClaimID, now)
		}
	}
	return PollStep{Next: next, Store: true, Err: ErrAuthorizationPending}
}

// claimLive reports whether the flow is claimed with a lease still running at now.
func (f Flow) claimLive(now time.Time) bool {
	return f.Status == FlowClaimed && now.Before(f.ClaimExpiresAt)
}

func claim(next Flow, claimID string, now time.Time) PollStep {
	next.Status = FlowClaimed
	next.ClaimID = claimID
	next.ClaimExpiresAt = now.Add(ClaimLease)
	return PollStep{Next: next, Store: true}
}

// FinishClaim reports whether a claimant may delete the flow: only while it
// is still claimed by claimID. Otherwise ErrClaimLost.
func FinishClaim(f *Flow, claimID string) error {
	if f == nil || f.Status != FlowClaimed || f.ClaimID != claimID {
		return ErrClaimLost
	}
	return nil
}

// ReleaseClaim returns the flow to APPROVED when still claimed by claimID,
// so a later poll retries the mint. Otherwise ErrClaimLost.
func ReleaseClaim(f *Flow, claimID string) (Flow, error) {
	if err := FinishClaim(f, claimID); err != nil {
		return Flow{}, err
	}
	next := *f
	next.Status = FlowApproved
	next.ClaimID = ""
	next.ClaimExpiresAt = time.Time{}
	return next, nil
}

// Decision is an account or SSO user's answer to a pending flow.
type Decision struct {
	Approve bool
	Subject *Subject // required when Approve
}

// Decide moves a pending flow to APPROVED (with the subject) or DENIED.
// Unknown or expired -> ErrNotFound; not pending -> ErrAlreadyResolved.
func Decide(f *Flow, d Decision, now time.Time) (Flow, error) {
	if f == nil || f.Expired(now) {
		return Flow{}, ErrNotFound
	}
	if f.Status != FlowPending {
		return Flow{}, ErrAlreadyResolved
	}
	next := *f
	if d.Approve {
		s := *d.Subject
		next.Status = FlowApproved
		next.Subject = &s
	} else {
		next.Status = FlowDenied
	}
	return next, nil
}

// ValidClientID reports whether id is a plausible client id (non-blank, at
// most 64 bytes, printable ASCII); known-ness is checked separately.
func ValidClientID(id string) bool {
	if strings.TrimSpace(id) == "" || len(id) > maxClientIDBytes {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}
