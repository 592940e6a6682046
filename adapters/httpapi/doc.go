// Package httpapi is devicegate's HTTP adapter on Echo v4: the /openapi/v1
// device-flow and token routes, the console session API, RFC 8414 metadata,
// RFC 7662 introspection, health probes, the one error table that maps domain
// errors to statuses and wire codes, and the middleware every response passes
// through (security headers, request ids, client IP, panic recovery).
//
// Handlers decode the request, call one app use case and encode the answer;
// they return errors unchanged and leave every status decision to errors.go.
package httpapi
