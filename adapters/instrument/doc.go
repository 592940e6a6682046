// Package instrument decorates the backend ports (flow state, tokens,
// cache, rate limiter, accounts, sessions, nonces, SSO gateway, revocation
// feed) so that every call is observed by probes: the metrics adapter
// counts and times it, the tracing adapter wraps it in a span. It imports no
// library itself, so backends stay unaware of metrics and tracing, and the
// composition root wraps each port once (cmd/devicegate).
package instrument
