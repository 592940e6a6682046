// Package domain holds devicegate's pure rules: device and user codes, the
// device-flow state machine, token kinds and the error sentinels. It imports
// only the standard library and performs no I/O; time and randomness are
// passed in by the caller.
package domain
