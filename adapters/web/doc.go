// Package web serves the verification page /device and the sign-in page
// /signin (SPEC 8): hand-written HTML, one script and one stylesheet,
// embedded in the binary with go:embed and mounted on the service's Echo.
package web
