// Package gormrepo stores access-token rows, built-in accounts and console
// sessions in SQL through GORM, on SQLite (the embedded default, pure Go) or
// Postgres. The schema comes from package migrations; GORM is the query layer
// only, with raw SQL where the ORM cannot say what is needed (the mint
// upsert, compare-and-set updates, batched deletes). Library errors are
// translated here, once: no row -> domain.ErrNotFound, a uniqueness
// violation -> domain.ErrConflict, a lost or refused connection ->
// domain.Unavailable("database", ...).
package gormrepo
