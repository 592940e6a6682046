package ports

import (
	"context"

	"github.com/devicegate/devicegate/domain"
)

// SSOGateway sends a person to an identity provider for the external-SSO
// branch (SPEC 2.6, 7.2). Adapters: the enterprise service's HTTP contract,
// or a relay to the organisation's own OpenID provider. Whatever the
// adapter, the browser must come back to the envelope's IdPCallbackURL
// (sso-complete) with an external-subject assertion whose user_code and nonce
// are the envelope's.
type SSOGateway interface {
	// Initiate hands the signed state envelope to the gateway and returns the
	// absolute URL to redirect the browser to. Returns domain.ErrSSOInitiateFailed
	// (wrapped) if the gateway fails or is unreachable, domain.ErrSSOMissingURL
	// if it answers without a URL.
	Initiate(ctx context.Context, in domain.SSOInitiation) (string, error)
}

// SSORelay is the return leg of a gateway that is its own SSO side (the
// built-in OpenID Connect relay): the provider sends the browser back to the
// relay's callback with an authorization code and the state it was given,
// and the caller, having verified the state envelope and consumed it once,
// asks the relay who signed in.
type SSORelay interface {
	// Redeem exchanges code for the sign-in that Initiate started for env and
	// returns the verified identity. Returns domain.ErrSSOFailed (wrapped) on
	// any provider error, unreachable provider or failed verification (the
	// wrapped text is for the log only: it never reaches the browser).
	Redeem(ctx context.Context, code string, env domain.StateEnvelope) (domain.SSOIdentity, error)
}
