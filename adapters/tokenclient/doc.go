// Package tokenclient lets a resource server validate devicegate bearer
// tokens through devicegate's RFC 7662 introspection endpoint
// (POST /openapi/v1/oauth/introspect), with a bounded local cache,
// coalescing of concurrent look-ups and a net/http middleware.
//
// It is a client library for OTHER services: it depends on the standard
// library only (the Echo middleware lives in the echomw subpackage so
// net/http users do not pull Echo), and it never keeps plaintext tokens in
// memory beyond one request: cache entries are keyed by the token's SHA-256.
//
// Errors: Validate returns ErrInactive for a token devicegate does not
// accept (unknown, expired, revoked) and an error matching ErrUnavailable
// (an *UnavailableError) when devicegate could not give an answer (network,
// timeout, 5xx, 429, or a rejected introspection secret). Middleware maps the
// first to 401 and the second to 503, so an outage never looks like a bad token.
package tokenclient
