package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	_ "github.com/glebarez/go-sqlite" // the sqlite floor: devicegate's pure-Go SQLite driver
	"github.com/redis/rueidis"
)

// The floors are minimal net/http servers run as subprocesses of this very
// binary (LOADGEN_FLOOR=kind), so they pay the same process, scheduling and
// loopback costs as devicegate does:
//
//	framework  parse the form, answer a JSON body the size of devicegate's pending-poll answer
//	redis      the same plus one EVALSHA of a trivial script on a key named by the form
//	postgres   the same plus one single-row upsert keyed by the form (answered 200)
//	sqlite     the same upsert on a SQLite file through one connection, as the
//	           embedded default writes (WAL, synchronous NORMAL; answered 200)
const (
	floorEnv      = "LOADGEN_FLOOR"
	floorAddrEnv  = "LOADGEN_FLOOR_ADDR"
	floorRedisEnv = "LOADGEN_FLOOR_REDIS"
	floorPGEnv    = "LOADGEN_FLOOR_POSTGRES"
	floorFileEnv  = "LOADGEN_FLOOR_SQLITE"
)

// floorBody is as long as devicegate's authorization_pending answer.
var floorBody = []byte(`{"error":"authorization_pending","error_description":"The user has not yet approved the request."}` + "\n")

// floorMain serves one floor until SIGINT or SIGTERM.
func floorMain(kind string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var work func(r *http.Request) error
	status := http.StatusBadRequest
	switch kind {
	case "framework":
		work = func(*http.Request) error { return nil }
	case "redis":
		c, err := redisClient(os.Getenv(floorRedisEnv))
		if err != nil {
			return err
		}
		defer c.Close()
		script := rueidis.NewLuaScript("return 1")
		prefix := "loadgen-floor-" + randomHex(4) + ":"
		work = func(r *http.Request) error {
			return script.Exec(r.Context(), c, []string{prefix + r.PostForm.Get("device_code")}, nil).Error()
		}
	case "postgres", "sqlite":
		db, upsert, err := openFloorDB(ctx, kind)
		if err != nil {
			return err
		}
		defer db.Close()
		status = http.StatusOK
		work = func(r *http.Request) error {
			_, err := db.ExecContext(r.Context(), upsert, r.PostForm.Get("device_code"), r.PostForm.Get("client_id"))
			return err
		}
	default:
		return fmt.Errorf("unknown floor %q", kind)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("client_id") == "" {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		if err := work(r); err != nil {
			http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_, _ = w.Write(floorBody)
	})
	srv := &http.Server{Addr: os.Getenv(floorAddrEnv), Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// openFloorDB opens the mint floor's database and creates its table; the
// statement it returns upserts one row keyed by ($1, $2).
func openFloorDB(ctx context.Context, kind string) (*sql.DB, string, error) {
	var db *sql.DB
	var err error
	if kind == "postgres" {
		if db, err = sql.Open("pgx", os.Getenv(floorPGEnv)); err != nil {
			return nil, "", err
		}
		db.SetMaxOpenConns(20) // devicegate's Postgres pool
		db.SetMaxIdleConns(20)
	} else {
		// devicegate's writer: one connection, WAL, synchronous NORMAL.
		dsn := os.Getenv(floorFileEnv) + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
		if db, err = sql.Open("sqlite", dsn); err != nil {
			return nil, "", err
		}
		db.SetMaxOpenConns(1)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS floor_rows (
		k text PRIMARY KEY, client_id text NOT NULL, created_at timestamp NOT NULL)`); err != nil {
		_ = db.Close()
		return nil, "", err
	}
	return db, `INSERT INTO floor_rows (k, client_id, created_at) VALUES ($1, $2, CURRENT_TIMESTAMP)
		ON CONFLICT (k) DO UPDATE SET client_id = excluded.client_id, created_at = excluded.created_at`, nil
}

// startFloor starts floor kind as a subprocess of this binary.
func startFloor(ctx context.Context, o *options, kind string) (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	env := append(baseEnv(), floorEnv+"="+kind, floorAddrEnv+"="+addr, floorRedisEnv+"="+o.redis)
	var cleanup []func()
	switch kind {
	case "postgres":
		dsn, drop, err := pgSchema(ctx, o.postgres, "loadgen_floor_")
		if err != nil {
			return nil, err
		}
		cleanup = append(cleanup, drop)
		env = append(env, floorPGEnv+"="+dsn)
	case "sqlite":
		dir, err := os.MkdirTemp("", "loadgen-floor-")
		if err != nil {
			return nil, err
		}
		cleanup = append(cleanup, func() { _ = os.RemoveAll(dir) })
		env = append(env, floorFileEnv+"="+filepath.Join(dir, "floor.db"))
	}
	s, err := startProcess(ctx, "floor-"+kind, self, nil, env, addr, "/readyz", os.Stderr)
	if err != nil {
		runAll(cleanup)
		return nil, err
	}
	s.cleanup = cleanup
	return s, nil
}
