// Package tokenclienttest provides a fake devicegate introspection endpoint
// for tests of resource servers (and of tokenclient itself), in the spirit
// of net/http/httptest: it implements the wire contract of
// POST /openapi/v1/oauth/introspect, counts calls, and can be told to fail
// or to hold requests. Its middleware conformance suite runs against the
// fake (TestMiddleware) or against a real devicegate (TestMiddlewareAgainst,
// with Faults to inject the outage cases).
package tokenclienttest
