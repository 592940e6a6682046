package gormrepo_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/domain"
)

// outageBound is how soon a request-path call must fail once the database
// stops answering: a behavioural bound (503, not a hang), not a benchmark.
// It is derived from the operation timeout with slack for a loaded 2-core
// CI machine; a hang would last until the 30 s caller context (or TCP)
// gives up, far beyond it.
const outageBound = 3*gormrepo.OpTimeout + 2*time.Second

// freezeProxy forwards TCP connections to target. Frozen, it still accepts
// and reads but forwards nothing, like a server stopped with SIGSTOP or a
// silent network partition: the failure a dial error never reports.
type freezeProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	gate   chan struct{} // closed while thawed
}

func newFreezeProxy(t *testing.T, target string) *freezeProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezeProxy{ln: ln, target: target, gate: make(chan struct{})}
	close(p.gate)
	t.Cleanup(func() { p.thaw(); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *freezeProxy) addr() string { return p.ln.Addr().String() }

func (p *freezeProxy) serve(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	go p.pipe(up, c)
	p.pipe(c, up)
}

// pipe copies src to dst, holding every chunk while the proxy is frozen.
func (p *freezeProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			gate := p.gate
			p.mu.Unlock()
			<-gate
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *freezeProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate:
		p.gate = make(chan struct{})
	default:
	}
}

func (p *freezeProxy) thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate:
	default:
		close(p.gate)
	}
}

// newUUID returns a random UUID.
func newUUID() string {
	id, err := domain.NewUUID(rand.Reader)
	if err != nil {
		panic(err)
	}
	return id
}

// outageToken is a fresh account token created at now.
func outageToken(now time.Time) domain.AccessToken {
	return domain.AccessToken{
		ID: newUUID(), SubjectEmail: "outage-" + newUUID() + "@example.com", SubjectIssuer: domain.AccountIssuer,
		AccountID: newUUID(), ClientID: "difyctl", DeviceLabel: "laptop", Prefix: domain.AccountTokenKind.Prefix,
		TokenHash: domain.HashSecret(newUUID()), CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	}
}

// requestOps are request-path calls on db that must fail fast in an outage.
func requestOps(db *gormrepo.DB, tok domain.AccessToken, now time.Time) map[string]func(context.Context) error {
	return map[string]func(context.Context) error{
		"ByHash": func(ctx context.Context) error { _, err := db.ByHash(ctx, tok.TokenHash); return err },
		"ByID":   func(ctx context.Context) error { _, err := db.ByID(ctx, tok.ID); return err },
		"Mint":   func(ctx context.Context) error { _, err := db.Mint(ctx, outageToken(now)); return err },
		"Revoke": func(ctx context.Context) error { _, err := db.Revoke(ctx, tok.ID, "", now); return err },
		"ExpireHard": func(ctx context.Context) error {
			_, err := db.ExpireHard(ctx, tok.ID, tok.ExpiresAt)
			return err
		},
		"ListLive": func(ctx context.Context) error {
			_, _, err := db.ListLive(ctx, domain.Owner{AccountID: tok.AccountID}, now, 1, 10)
			return err
		},
		"Session": func(ctx context.Context) error { _, err := db.Session(ctx, domain.HashSecret("s"), now); return err },
		"Account": func(ctx context.Context) error { _, err := db.Account(ctx, tok.AccountID); return err },
		"Ping":    db.Ping,
	}
}

// failFast runs every op at once, each with a generous context, and fails t
// unless each returns domain.ErrUnavailable within outageBound.
func failFast(t *testing.T, state string, ops map[string]func(context.Context) error) {
	t.Helper()
	var wg sync.WaitGroup
	for name, op := range ops {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			start := time.Now()
			err := op(ctx)
			took := time.Since(start)
			if !errors.Is(err, domain.ErrUnavailable) {
				t.Errorf("%s while the database is %s: got %v, want domain.ErrUnavailable", name, state, err)
			}
			if took > outageBound {
				t.Errorf("%s while the database is %s took %v, want under %v", name, state, took.Round(time.Millisecond), outageBound)
			}
		})
	}
	wg.Wait()
}

// TestPostgresFrozen: with the server silent (connections open, nothing
// answers), every request-path call fails with domain.ErrUnavailable within
// the bound instead of waiting for TCP to give up, and the same pool
// recovers by itself once the server answers again.
func TestPostgresFrozen(t *testing.T) {
	t.Parallel() // mostly waiting on timeouts
	u, err := url.Parse(postgresSchemaURL(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	p := newFreezeProxy(t, u.Host)
	u.Host = p.addr()
	db := openPostgresURL(t, u.String(), false)
	now := time.Now().UTC().Truncate(time.Microsecond)
	tok := outageToken(now)
	if _, err := db.Mint(context.Background(), tok); err != nil {
		t.Fatalf("Mint while up: %v", err)
	}

	p.freeze()
	failFast(t, "frozen", requestOps(db, tok, now))
	p.thaw()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := db.ByHash(context.Background(), tok.TokenHash)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after the server answered again: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSQLiteLockedFailsFast: a write waiting on another process's lock on
// the file (here a second handle holding BEGIN IMMEDIATE) gives up within
// the bound as domain.ErrUnavailable, not after the 10 s busy timeout.
func TestSQLiteLockedFailsFast(t *testing.T) {
	t.Parallel()
	db, path := openSQLite(t, false)
	now := time.Now().UTC().Truncate(time.Microsecond)
	tok := outageToken(now)
	if _, err := db.Mint(context.Background(), tok); err != nil {
		t.Fatalf("Mint: %v", err)
	}
	other, err := gormrepo.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	// One connection per handle: the BEGIN stays open on it until ROLLBACK.
	if err := gormrepo.ExecForTest(context.Background(), other, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer gormrepo.ExecForTest(context.Background(), other, "ROLLBACK")
	failFast(t, "locked", map[string]func(context.Context) error{
		"Mint":   func(ctx context.Context) error { _, err := db.Mint(ctx, outageToken(now)); return err },
		"Revoke": func(ctx context.Context) error { _, err := db.Revoke(ctx, tok.ID, "", now); return err },
	})
}

// TestClosedDB: a call on a closed pool (shutdown racing a request) is an
// outage, not an unexpected error.
func TestClosedDB(t *testing.T) {
	backends(t, func(t *testing.T, open func(bool) *gormrepo.DB) {
		db := open(false)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		tok := outageToken(time.Now().UTC())
		for name, op := range requestOps(db, tok, time.Now()) {
			if err := op(context.Background()); !errors.Is(err, domain.ErrUnavailable) {
				t.Errorf("%s on a closed database: got %v, want domain.ErrUnavailable", name, err)
			}
		}
	})
}
