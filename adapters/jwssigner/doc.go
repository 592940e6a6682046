// Package jwssigner signs and verifies the SPEC 5 objects (SSO state
// envelope, external-subject assertion, approval grant) as compact HS256 JWS
// over a key set, with lestrrat-go/jwx v2. It is the only package besides
// cmd that imports jwx.
package jwssigner
