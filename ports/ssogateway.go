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
