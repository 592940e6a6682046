// Package passwordhash hashes built-in account passwords with argon2id
// (golang.org/x/crypto/argon2) into PHC-format strings
// ($argon2id$v=19$m=...,t=...,p=...$salt$hash) and verifies them in constant
// time. It implements ports.PasswordHasher.
package passwordhash
