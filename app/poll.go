package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// Poll is POST /oauth/device/token (SPEC 2.3): claim an approval atomically,
// mint outside the store, then finish (or release) the claim.
type Poll struct {
	Env
	Flows  ports.FlowPoller
	Minter *Minter
	// Accounts, when set, is asked before an account token is minted: an
	// approval whose account was disabled or deleted since ends the flow as
	// access_denied instead of issuing a token the bearer check would refuse.
	Accounts ports.AccountDirectory
	// MintTimeout bounds the mint (default DefaultMintTimeout). It must be
	// shorter than the claim lease: a mint still running when its lease ends
	// could otherwise commit after a later claimant's and replace that
	// claimant's token in place.
	MintTimeout time.Duration
}

// DefaultMintTimeout leaves a 10 s margin inside the 30 s claim lease.
const DefaultMintTimeout = domain.ClaimLease - 10*time.Second

// PollInput is the request of Poll.
type PollInput struct {
	DeviceCode string
	ClientID   string
	GrantType  string
	IP         string
	// CodeVerifier is the PKCE code_verifier (RFC 7636), "" when not sent.
	CodeVerifier string
}

// Grant is a successful poll: the token and who it speaks for.
type Grant struct {
	Minted
	Subject domain.Subject
}

// Execute runs one poll.
func (u *Poll) Execute(ctx context.Context, in PollInput) (Grant, error) {
	g, err := u.execute(ctx, in)
	u.observer().PollAnswered(pollOutcome(err))
	return g, err
}

// pollOutcome is the metric outcome of a poll's error.
func pollOutcome(err error) ports.PollOutcome {
	switch {
	case err == nil:
		return ports.PollIssued
	case errors.Is(err, domain.ErrAuthorizationPending):
		return ports.PollPending
	case errors.Is(err, domain.ErrSlowDown):
		return ports.PollSlowDown
	case errors.Is(err, domain.ErrAccessDenied):
		return ports.PollDenied
	case errors.Is(err, domain.ErrExpiredToken):
		return ports.PollExpired
	case errors.Is(err, domain.ErrInvalidGrant), errors.Is(err, domain.ErrVerifierMismatch),
		errors.Is(err, domain.ErrInvalidRequest), errors.Is(err, domain.ErrUnsupportedGrantType):
		return ports.PollInvalid
	}
	return ports.PollError
}

func (u *Poll) execute(ctx context.Context, in PollInput) (Grant, error) {
	if in.GrantType != "" && in.GrantType != domain.GrantTypeDevice {
		return Grant{}, domain.ErrUnsupportedGrantType
	}
	if in.DeviceCode == "" || in.ClientID == "" {
		return Grant{}, fmt.Errorf("%w: device_code and client_id are required", domain.ErrInvalidRequest)
	}
	req := domain.PollRequest{ClientID: in.ClientID}
	if in.CodeVerifier != "" {
		if !domain.ValidCodeVerifier(in.CodeVerifier) {
			return Grant{}, fmt.Errorf("%w: code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~", domain.ErrInvalidRequest)
		}
		// Only this hash reaches the store; the flow store compares it with the challenge.
		req.VerifierChallenge = domain.PKCEChallenge(in.CodeVerifier)
	}
	claimID, err := domain.NewUUID(u.rand())
	if err != nil {
		return Grant{}, err
	}
	req.ClaimID = claimID
	hash := domain.HashSecret(in.DeviceCode)
	now := u.now()
	f, err := u.Flows.Poll(ctx, hash, req, now)
	if err != nil {
		return Grant{}, err
	}
	if f.Subject == nil {
		_ = u.Flows.ReleaseClaim(context.WithoutCancel(ctx), hash, claimID)
		return Grant{}, fmt.Errorf("poll: claimed flow has no subject")
	}
	if err := u.checkAccount(ctx, *f.Subject); err != nil {
		if errors.Is(err, domain.ErrAccessDenied) {
			if ferr := u.Flows.FinishClaim(context.WithoutCancel(ctx), hash, claimID); ferr != nil && !errors.Is(ferr, domain.ErrClaimLost) {
				u.log().WarnContext(ctx, "ending the flow of an inactive account failed", "err", ferr)
			}
		} else if rerr := u.Flows.ReleaseClaim(context.WithoutCancel(ctx), hash, claimID); rerr != nil {
			u.log().WarnContext(ctx, "release of device-flow claim failed", "err", rerr)
		}
		return Grant{}, err
	}
	timeout := u.MintTimeout
	if timeout <= 0 || timeout >= domain.ClaimLease {
		timeout = DefaultMintTimeout
	}
	mintCtx, cancel := context.WithTimeout(ctx, timeout)
	minted, err := u.Minter.Mint(mintCtx, *f.Subject, f.ClientID, f.DeviceLabel)
	cancel()
	if err != nil {
		// Give the approval back so a later poll retries; the lease covers us if this fails too.
		if rerr := u.Flows.ReleaseClaim(context.WithoutCancel(ctx), hash, claimID); rerr != nil {
			u.log().WarnContext(ctx, "release of device-flow claim failed", "err", rerr)
		}
		return Grant{}, err
	}
	leaseSafe := now.Add(timeout) // before this, no other poll can have taken the claim
	if err := u.finish(ctx, hash, claimID, leaseSafe); err != nil {
		if errors.Is(err, domain.ErrClaimLost) {
			// Our lease ran out and another poll took over; its mint replaces
			// ours in place, so this token must never be handed out.
			return Grant{}, domain.ErrAuthorizationPending
		}
		return Grant{}, err
	}
	u.emit(ctx, issuedEvent(*f.Subject, minted))
	if in.IP != "" && f.CreatedIP != "" && in.IP != f.CreatedIP {
		u.emit(ctx, domain.AuditEvent{
			Name: domain.EventCrossIPPoll, TokenID: minted.Row.ID, SubjectType: f.Subject.Type,
			SubjectEmail: f.Subject.Email, AccountID: f.Subject.AccountID, ClientID: f.ClientID,
			DeviceLabel: f.DeviceLabel, Detail: "poll IP differs from the creation IP",
		})
	}
	return Grant{Minted: minted, Subject: *f.Subject}, nil
}

// checkAccount returns domain.ErrAccessDenied when s is an account that is no
// longer active (disabled or deleted since the approval).
func (u *Poll) checkAccount(ctx context.Context, s domain.Subject) error {
	if u.Accounts == nil || s.Type != domain.SubjectAccount {
		return nil
	}
	acct, err := u.Accounts.Account(ctx, s.AccountID)
	if errors.Is(err, domain.ErrNotFound) || (err == nil && !acct.Active) {
		u.emit(ctx, domain.AuditEvent{
			Name: domain.EventFlowRejected, SubjectType: s.Type, SubjectEmail: s.Email, AccountID: s.AccountID,
			Detail: "the approving account is no longer active",
		})
		return domain.ErrAccessDenied
	}
	return err
}

// finishRetryWindow bounds how long a poll keeps asking a store whose finish
// failed, so the poll still answers within the outage bound.
const finishRetryWindow = 4 * time.Second

// finish finishes the claim. A failed finish is ambiguous: the store may
// have deleted the flow and lost only its reply (a connection cut after the
// script ran). Answering 503 then would lose the approval for good, the flow
// gone and the token minted (and its device's previous token replaced) but
// never handed out. So it asks again, briefly; while the lease is safe, a
// claim found gone on a repeat can only have been finished by this poll's
// own earlier attempt, which therefore succeeded.
func (u *Poll) finish(ctx context.Context, hash, claimID string, leaseSafe time.Time) error {
	err := u.Flows.FinishClaim(ctx, hash, claimID)
	if err == nil || errors.Is(err, domain.ErrClaimLost) {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, finishRetryWindow)
	defer cancel()
	for backoff := 250 * time.Millisecond; ; backoff = min(2*backoff, time.Second) {
		select {
		case <-rctx.Done():
			return err
		case <-time.After(backoff):
		}
		rerr := u.Flows.FinishClaim(rctx, hash, claimID)
		switch {
		case rerr == nil:
			return nil
		case errors.Is(rerr, domain.ErrClaimLost) && u.now().Before(leaseSafe):
			return nil
		case errors.Is(rerr, domain.ErrClaimLost):
			return rerr
		}
	}
}
