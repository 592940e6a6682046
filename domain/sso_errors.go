package domain

import "errors"

// Errors of the external-SSO branch (SPEC 2.6); adapters/httpapi maps each
// to its status and wire code.
var (
	// ErrSSOUnavailable reports an SSO endpoint on a deployment where the
	// branch is off (edition or license); it is answered as a bare 404.
	ErrSSOUnavailable = errors.New("sso unavailable")
	// ErrInvalidUserCode reports an sso-initiate whose user code names no pending flow.
	ErrInvalidUserCode = errors.New("invalid_user_code")
	// ErrConsoleAPIURLUnset reports that CONSOLE_API_URL, needed for the IdP callback, is not configured.
	ErrConsoleAPIURLUnset = errors.New("console_api_url_unset")
	// ErrSSOInitiateFailed reports an SSO gateway that failed or could not be reached.
	ErrSSOInitiateFailed = errors.New("sso_initiate_failed")
	// ErrSSOMissingURL reports an SSO gateway answer without a redirect URL.
	ErrSSOMissingURL = errors.New("sso_initiate_missing_url")
	// ErrSSOFailed reports a sign-in at the identity provider that did not
	// yield a verified identity (refused, bad code, unreachable provider,
	// failed ID-token verification); the browser only ever sees sso_failed.
	ErrSSOFailed = errors.New("sso_failed")
	// ErrInvalidSession reports an approve-external without a valid approval-grant cookie.
	ErrInvalidSession = errors.New("invalid_session")
	// ErrUserCodeMismatch reports an approve-external for another user code than the grant's.
	ErrUserCodeMismatch = errors.New("user_code_mismatch")
	// ErrUserCodeNotPending reports an approve-external on a flow no longer pending.
	ErrUserCodeNotPending = errors.New("user_code_not_pending")
	// ErrEmailBelongsToAccount reports an external email that is an active account's.
	ErrEmailBelongsToAccount = errors.New("email_belongs_to_dify_account")
	// ErrSessionConsumed reports a grant whose nonce was already used.
	ErrSessionConsumed = errors.New("session_already_consumed")
)

// SSOInitiation is what sso-initiate hands the SSO gateway: the signed state
// envelope (what travels) and its content (so a gateway can bind its own
// state and nonce to it without verifying it again).
type SSOInitiation struct {
	State    string
	Envelope StateEnvelope
}

// SSOIdentity is who signed in at an identity provider, as a relay that is
// its own SSO side (the OpenID Connect relay) verified it: the email and the
// provider's issuer URL, the two claims of the external subject.
type SSOIdentity struct {
	Email  string
	Issuer string
}
