// Package cli is devicectl's command line: flags, output (text or --json),
// the QR code, the browser and the exit codes, over package deviceclient.
// It lives in a package of its own so tests can run it in-process against
// a real devicegate server.
package cli
