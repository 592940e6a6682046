// Package contracttest checks real HTTP exchanges against docs/openapi.yaml,
// so the test suites of the HTTP adapter and of the binary prove the
// published contract on every response they make. Tests only: the binary
// never imports it.
package contracttest
