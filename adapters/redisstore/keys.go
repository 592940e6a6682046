package redisstore

import "github.com/devicegate/devicegate/domain"

// keyspace builds every key under one prefix. The braces are Redis Cluster
// hash tags: each key lives in the slot of its hash, and no script ever
// touches two keys.
type keyspace string

// flow is the flow hash; deviceCodeHash is already the SHA-256 hex of the device code.
func (k keyspace) flow(deviceCodeHash string) string {
	return string(k) + "flow:{" + deviceCodeHash + "}"
}

// userCode is the user-code index entry (value: the device code hash).
func (k keyspace) userCode(userCode string) string {
	return string(k) + "uc:{" + domain.HashSecret(userCode) + "}"
}

// rate is one rate-limit sorted set; the key part is hashed because it may
// be a token hash, an email or an IP.
func (k keyspace) rate(bucket, key string) string {
	return string(k) + "rl:" + bucket + ":{" + domain.HashSecret(key) + "}"
}

// nonce is one reserved nonce.
func (k keyspace) nonce(nonce string) string {
	return string(k) + "nonce:{" + domain.HashSecret(nonce) + "}"
}

// token is one bearer-cache entry; hash is already the token's SHA-256 hex.
func (k keyspace) token(hash string) string {
	return string(k) + "tok:{" + hash + "}"
}

// lock is one named lock.
func (k keyspace) lock(name string) string {
	return string(k) + "lock:{" + name + "}"
}
