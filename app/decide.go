package app

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// Decide is POST /oauth/device/approve and /deny on the account branch (SPEC 2.5).
type Decide struct {
	Env
	Flows         ports.FlowStore
	Accounts      ports.AccountDirectory
	Limiter       ports.RateLimiter
	BearerEnabled bool
	// Bucket is the shared approve+deny bucket (limit from DEVICE_FLOW_APPROVE_RATE_LIMIT_PER_HOUR).
	Bucket domain.RateBucket
}

// DecideInput is one decision. Identity comes only from the session.
type DecideInput struct {
	Session    domain.ConsoleSession
	CSRFHeader string
	UserCode   string
	Approve    bool
}

// CheckCSRF compares the header with the session's CSRF secret in constant time.
func CheckCSRF(s domain.ConsoleSession, header string) error {
	if header == "" || s.CSRFToken == "" || subtle.ConstantTimeCompare([]byte(header), []byte(s.CSRFToken)) != 1 {
		return domain.ErrCSRFMismatch
	}
	return nil
}

// Execute admits the request (CSRF, feature switch, rate limit) and applies
// the decision as one compare-and-set on the flow.
func (u *Decide) Execute(ctx context.Context, in DecideInput) (domain.Flow, error) {
	if err := CheckCSRF(in.Session, in.CSRFHeader); err != nil {
		return domain.Flow{}, err
	}
	if !u.BearerEnabled {
		return domain.Flow{}, domain.ErrBearerDisabled
	}
	now := u.now()
	if err := limit(ctx, u.Limiter, u.Bucket, in.Session.IDHash, now); err != nil {
		return domain.Flow{}, err
	}
	if in.UserCode == "" {
		return domain.Flow{}, fmt.Errorf("%w: user_code is required", domain.ErrInvalidRequest)
	}
	code, ok := domain.NormalizeUserCode(in.UserCode)
	if !ok {
		return domain.Flow{}, domain.ErrExpiredOrUnknown
	}
	f, err := u.Flows.ByUserCode(ctx, code, now)
	if err != nil {
		return domain.Flow{}, flowErr(err)
	}
	if f.Status != domain.FlowPending {
		return domain.Flow{}, domain.ErrAlreadyResolved
	}
	acct, err := u.Accounts.Account(ctx, in.Session.AccountID)
	if errors.Is(err, domain.ErrNotFound) || (err == nil && !acct.Active) {
		return domain.Flow{}, domain.ErrStateLost
	}
	if err != nil {
		return domain.Flow{}, err
	}
	d := domain.Decision{Approve: in.Approve}
	var subject domain.Subject
	if in.Approve {
		ws, err := u.Accounts.Workspaces(ctx, acct.ID)
		if err != nil {
			return domain.Flow{}, err
		}
		subject = domain.AccountSubject(acct, ws, in.Session.WorkspaceID)
		d.Subject = &subject
	}
	next, err := u.Flows.Decide(ctx, code, d, now)
	if err != nil {
		return domain.Flow{}, flowErr(err)
	}
	ev := domain.AuditEvent{
		Name: domain.EventFlowDenied, SubjectType: domain.SubjectAccount, SubjectEmail: acct.Email,
		SubjectIssuer: domain.AccountIssuer, AccountID: acct.ID, WorkspaceID: in.Session.WorkspaceID,
		ClientID: f.ClientID, DeviceLabel: f.DeviceLabel,
	}
	if in.Approve {
		ev.Name, ev.WorkspaceID = domain.EventFlowApproved, subject.DefaultWorkspaceID
	}
	u.emit(ctx, ev)
	return next, nil
}

// flowErr maps a flow store's not-found to the wire's expired_or_unknown.
func flowErr(err error) error {
	if errors.Is(err, domain.ErrNotFound) {
		return domain.ErrExpiredOrUnknown
	}
	return err
}
