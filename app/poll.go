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
	f, err := u.Flows.Poll(ctx, hash, req, u.now())
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
	if err := u.Flows.FinishClaim(ctx, hash, claimID); err != nil {
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
