// Package oidcrelay is the built-in OpenID Connect relay (SPEC 2.6, last
// paragraph): an SSO gateway that sends the person to the organisation's own
// OpenID provider (authorization code flow with PKCE S256, a nonce, the
// signed state envelope as state) and, on the way back, redeems the code and
// verifies the ID token with go-oidc. It is the only package that imports
// go-oidc.
package oidcrelay
