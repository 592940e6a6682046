package main

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/redisstore"
)

// wantNothingAtRest fails t when dump (everything a store holds) contains a
// secret that exercise marked as never stored: device codes, tokens,
// session ids, passwords, assertions, grant cookies, configured secrets.
func wantNothingAtRest(t *testing.T, store, dump string, x *exercised) {
	t.Helper()
	if !strings.Contains(dump, secLabel) {
		t.Fatalf("%s: the dump does not hold the flows' device label: it read nothing", store)
	}
	if l := leaks(dump, x.secrets, func(name string) bool { return x.atRest[name] }); len(l) > 0 {
		t.Errorf("%s holds in plaintext: %v", store, l)
	}
}

// TestNoPlaintextSecretsAtRest: after every kind of flow (account approve,
// deny, pending, SSO, rotation, revocation, sign-in and logout), neither
// the SQLite file (with its WAL), nor any Postgres table of the schema, nor
// any Redis key under the prefix (names and values) holds a plaintext
// token, device code, session id, password, assertion or grant cookie.
func TestNoPlaintextSecretsAtRest(t *testing.T) {
	t.Run("sqlite and memory", func(t *testing.T) {
		in, _, vars := secInstanceVars(t, secWeb)
		x := exercise(t, in)
		wantNothingAtRest(t, "SQLite", sqliteDump(t, strings.TrimPrefix(vars["DATABASE_URL"], "sqlite:")), x)
	})
	t.Run("postgres and redis", func(t *testing.T) {
		ent := newEnterprise(t)
		vars := ssoVars(postgresRedisVars(t), ent)
		vars["PUBLIC_WEB_URL"] = secWeb
		createAccount(t, vars, "member@corp.example", secPassword, "Corp")
		in := startInstance(t, vars)
		x := exercise(t, in)
		wantNothingAtRest(t, "Postgres", postgresDump(t, vars["DATABASE_URL"]), x)
		wantNothingAtRest(t, "Redis", redisDump(t, vars["REDIS_URL"], vars["REDIS_KEY_PREFIX"]), x)
	})
}

// sqliteDump is the raw bytes of the database file and its WAL (SQLite
// stores text as is, so a plaintext secret would show).
func sqliteDump(t *testing.T, path string) string {
	t.Helper()
	var b strings.Builder
	for _, p := range []string{path, path + "-wal", path + "-journal"} {
		raw, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		b.Write(raw)
	}
	return b.String()
}

// postgresDump is every row of every table in the test schema, as text.
func postgresDump(t *testing.T, dsn string) string {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	if len(tables) == 0 {
		t.Fatal("no tables in the schema")
	}
	var b strings.Builder
	for _, tbl := range tables {
		rs, err := db.QueryContext(ctx, `SELECT t::text FROM "`+tbl+`" t`)
		if err != nil {
			t.Fatalf("dump %s: %v", tbl, err)
		}
		for rs.Next() {
			var line string
			if err := rs.Scan(&line); err != nil {
				t.Fatal(err)
			}
			b.WriteString(tbl + " " + line + "\n")
		}
		rs.Close()
	}
	return b.String()
}

// redisDump is every key under prefix with its value, whatever its type.
func redisDump(t *testing.T, redisURL, prefix string) string {
	t.Helper()
	c, err := redisstore.NewClient(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var b strings.Builder
	keys := 0
	for cursor := uint64(0); ; {
		e, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Match(prefix+"*").Count(1000).Build()).AsScanEntry()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range e.Elements {
			keys++
			typ, err := c.Do(ctx, c.B().Type().Key(k).Build()).ToString()
			if err != nil {
				t.Fatal(err)
			}
			var vals []string
			switch typ {
			case "string":
				v, _ := c.Do(ctx, c.B().Get().Key(k).Build()).ToString()
				vals = []string{v}
			case "hash":
				m, _ := c.Do(ctx, c.B().Hgetall().Key(k).Build()).AsStrMap()
				for f, v := range m {
					vals = append(vals, f, v)
				}
			case "zset":
				vals, _ = c.Do(ctx, c.B().Zrange().Key(k).Min("0").Max("-1").Build()).AsStrSlice()
			case "list":
				vals, _ = c.Do(ctx, c.B().Lrange().Key(k).Start(0).Stop(-1).Build()).AsStrSlice()
			case "set":
				vals, _ = c.Do(ctx, c.B().Smembers().Key(k).Build()).AsStrSlice()
			case "none": // expired between SCAN and TYPE
			default:
				t.Fatalf("key %s of type %s: the dump cannot read it", k, typ)
			}
			b.WriteString(k + " " + strings.Join(vals, " ") + "\n")
		}
		if cursor = e.Cursor; cursor == 0 {
			break
		}
	}
	if keys == 0 {
		t.Fatal("no Redis key under the prefix")
	}
	return b.String()
}
