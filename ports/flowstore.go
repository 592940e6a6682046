package ports

import (
	"context"
	"time"

	"github.com/devicegate/devicegate/domain"
)

// FlowStore keeps device flows, addressed by the SHA-256 of their device code
// and indexed by user code. Every method that can change a flow is atomic on
// that flow. Backend outages are returned as domain.ErrUnavailable.
type FlowStore interface {
	// Create stores a new pending flow until f.ExpiresAt. Returns
	// domain.ErrUserCodeTaken if a live flow already holds f.UserCode (nothing is written then).
	Create(ctx context.Context, f domain.Flow) error
	// ByUserCode returns the flow holding a normalised user code. Returns
	// domain.ErrNotFound if none, or if it expired at now.
	ByUserCode(ctx context.Context, userCode string, now time.Time) (domain.Flow, error)
	// Decide applies domain.Decide atomically to the flow holding userCode and
	// returns the updated flow. Returns domain.ErrNotFound (unknown or expired)
	// or domain.ErrAlreadyResolved (not pending; also the loser of a race).
	Decide(ctx context.Context, userCode string, d domain.Decision, now time.Time) (domain.Flow, error)
}

// FlowPoller runs the poll of SPEC 2.3 as one atomic step per call.
type FlowPoller interface {
	// Poll applies domain.Poll atomically to the flow with deviceCodeHash,
	// using req.ClaimID as the claim id should the poll claim an approval. On
	// a claim it returns the claimed flow and a nil error; otherwise the error
	// is one of domain.ErrExpiredToken, ErrInvalidGrant, ErrVerifierMismatch,
	// ErrSlowDown, ErrAuthorizationPending, ErrAccessDenied (or ErrUnavailable).
	Poll(ctx context.Context, deviceCodeHash string, req domain.PollRequest, now time.Time) (domain.Flow, error)
	// FinishClaim deletes the flow if it is still claimed by claimID, else
	// returns domain.ErrClaimLost.
	FinishClaim(ctx context.Context, deviceCodeHash, claimID string) error
	// ReleaseClaim moves the flow back to APPROVED if still claimed by claimID,
	// else returns domain.ErrClaimLost.
	ReleaseClaim(ctx context.Context, deviceCodeHash, claimID string) error
}

// Flows is what one flow-state backend provides.
type Flows interface {
	FlowStore
	FlowPoller
}

// NonceStore reserves one-time nonces (SSO state and assertion nonces).
type NonceStore interface {
	// Reserve claims nonce for owner for ttl. It returns false if the nonce is
	// already reserved (a replay), true if this call reserved it.
	Reserve(ctx context.Context, nonce, owner string, ttl time.Duration) (bool, error)
	// Release frees nonce only if owner reserved it; otherwise it is a no-op.
	Release(ctx context.Context, nonce, owner string) error
}
