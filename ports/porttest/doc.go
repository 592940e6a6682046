// Package porttest holds the conformance suites of the ports: one exported
// TestX(t, factory) function per port, which every adapter's tests call, so
// that every backend is held to the same contract (including its concurrency
// guarantees). The pure functions of package domain are the specification
// the suites check stores against. Suites use fresh random keys, codes and
// names, so several adapters' runs may share one backend.
//
// RequireEnv and SkipOrFail are the one rule for tests that need a real
// backend: skip locally when it is not configured, fail under CI=true.
package porttest
