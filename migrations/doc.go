// Package migrations holds the SQL schema of devicegate, one folder of goose
// migration files per dialect (sqlite/ and postgres/; no SQL tries to please
// both), embedded in the binary, and the few functions that apply them and
// report the schema version. GORM is only the query layer: the schema comes
// from these files alone.
package migrations
