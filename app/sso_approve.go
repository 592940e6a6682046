package app

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/devicegate/devicegate/domain"
)

// Grant reads the approval-grant cookie (approval-context, SPEC 2.6 step 3):
// domain.ErrNoSession unless it verifies and was issued by this deployment.
// Nothing is consumed.
func (u *SSO) Grant(ctx context.Context, cookie string) (domain.ApprovalGrant, error) {
	if cookie == "" {
		return domain.ApprovalGrant{}, domain.ErrNoSession
	}
	g, err := u.Signer.VerifyGrant(cookie, u.now())
	if err != nil || u.ConsoleAPIURL == "" || g.Issuer != u.ConsoleAPIURL {
		return domain.ApprovalGrant{}, domain.ErrNoSession
	}
	return g, nil
}

// AdmitExternal runs the admission of approve-external in SPEC 2.6 order,
// before the body is read: a valid grant (401 invalid_session), the
// per-email limit, counted before the CSRF check, the CSRF header against
// the grant's token in constant time, then the ENABLE_OAUTH_BEARER switch.
func (u *SSO) AdmitExternal(ctx context.Context, cookie, csrfHeader string) (domain.ApprovalGrant, error) {
	g, err := u.Grant(ctx, cookie)
	if err != nil {
		return domain.ApprovalGrant{}, domain.ErrInvalidSession
	}
	if err := limit(ctx, u.Limiter, domain.BucketApproveExternal, emailKey(g.SubjectEmail), u.now()); err != nil {
		return domain.ApprovalGrant{}, err
	}
	if csrfHeader == "" || subtle.ConstantTimeCompare([]byte(csrfHeader), []byte(g.CSRFToken)) != 1 {
		return domain.ApprovalGrant{}, domain.ErrCSRFMismatch
	}
	if !u.BearerEnabled {
		return domain.ApprovalGrant{}, domain.ErrBearerDisabled
	}
	return g, nil
}

// ApproveExternal approves the grant's flow for the external subject (SPEC
// 2.6 step 4) once AdmitExternal admitted g. The grant's nonce is consumed
// only once every check passed, and given back if the decision then fails
// for a reason a retry could fix.
func (u *SSO) ApproveExternal(ctx context.Context, g domain.ApprovalGrant, rawUserCode string) error {
	code, ok := domain.NormalizeUserCode(rawUserCode)
	if !ok || code != g.UserCode {
		return domain.ErrUserCodeMismatch
	}
	f, err := u.pendingFlow(ctx, code)
	if err != nil {
		return externalFlowErr(err)
	}
	taken, err := u.Accounts.ActiveAccountByEmail(ctx, g.SubjectEmail)
	if err != nil {
		return err
	}
	if taken {
		u.rejected(ctx, g.SubjectEmail, g.SubjectIssuer, f)
		return domain.ErrEmailBelongsToAccount
	}
	owner := RequestID(ctx) + "grant"
	key := grantNonceSpace + g.Nonce
	fresh, err := u.Nonces.Reserve(ctx, key, owner, domain.NonceReservationTTL)
	if err != nil {
		return err
	}
	if !fresh {
		return domain.ErrSessionConsumed
	}
	subject := g.Subject()
	if _, err := u.Flows.Decide(ctx, code, domain.Decision{Approve: true, Subject: &subject}, u.now()); err != nil {
		if errors.Is(err, domain.ErrNotFound) || errors.Is(err, domain.ErrAlreadyResolved) {
			return externalFlowErr(err) // the flow moved on: this grant is spent
		}
		if rerr := u.Nonces.Release(context.WithoutCancel(ctx), key, owner); rerr != nil {
			u.log().WarnContext(ctx, "release of the grant nonce failed", "err", rerr)
		}
		return fmt.Errorf("approve-external: %w", err)
	}
	u.emit(ctx, domain.AuditEvent{Name: domain.EventFlowApproved, SubjectType: domain.SubjectExternalSSO,
		SubjectEmail: g.SubjectEmail, SubjectIssuer: g.SubjectIssuer, ClientID: f.ClientID, DeviceLabel: f.DeviceLabel})
	return nil
}

// externalFlowErr maps a flow lookup or decision error to approve-external's
// wire errors: unknown -> 404 expired_or_unknown, not pending -> 409 user_code_not_pending.
func externalFlowErr(err error) error {
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return domain.ErrExpiredOrUnknown
	case errors.Is(err, domain.ErrAlreadyResolved):
		return domain.ErrUserCodeNotPending
	}
	return err
}
