// Package memstore holds the in-memory state-store adapters, the embedded
// default when no Redis is configured: flows (ports.Flows), rate limiting,
// one-time nonces, the bearer token cache and a named lock. Each type guards
// its state with one mutex, so every port method is atomic, and bounds its
// memory by dropping expired entries. State lives in one process only: run a
// single instance, or use the Redis adapter to share state between instances.
package memstore
