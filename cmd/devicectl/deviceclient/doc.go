// Package deviceclient signs a command-line tool in to a devicegate server
// through the OAuth 2.0 device authorization grant (RFC 8628, with RFC 8414
// discovery and RFC 7636 PKCE, on golang.org/x/oauth2), keeps the token in
// a per-user file, and calls the server's bearer API (/me, sessions, revoke).
//
// It is a client of the public API only: it imports nothing of the server,
// so CLI authors can copy or import it as an example.
package deviceclient
