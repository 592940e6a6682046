// Package redisstore is the production state store on Redis (via rueidis):
// device flows, rate limiting, one-time nonces, the bearer-token cache (with
// client-side caching) and a distributed lock.
//
// Every state transition is one Lua script (scripts/*.lua, embedded) that
// touches exactly one key, so the package runs unchanged on Redis Cluster.
// Time always comes from the Go caller (the now argument, as unix
// milliseconds), never from the Redis clock, so conformance suites control
// time; key TTLs only let Redis free memory. Keys are addressed by SHA-256
// hashes of secrets (device codes, user codes, nonces); plaintext device
// codes and tokens never reach Redis.
package redisstore
