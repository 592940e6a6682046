package main

import (
	"bytes"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devicegate/devicegate/ports/porttest"
)

// tcpProxy forwards a loopback port to a target; the test can cut it (every
// connection dropped, new ones refused) and restore it on the same port.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	// delay holds back every chunk in either direction (a slow backend);
	// paused holds it back until resumed (a backend that stopped answering).
	delay  atomic.Int64
	paused atomic.Bool
	lose   []byte // see loseReplyOnce
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *tcpProxy) pipe(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil {
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	var lost atomic.Bool // a request matched loseReplyOnce: its reply is dropped
	go func() { p.copy(up, c, &lost, true); up.Close() }()
	p.copy(c, up, &lost, false)
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// copy forwards src to dst, holding each chunk back while paused and for the
// delay. A request (toServer) matching loseReplyOnce reaches the server,
// then the connection is cut; lost stops its reply on the way back.
func (p *tcpProxy) copy(dst, src net.Conn, lost *atomic.Bool, toServer bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			for p.paused.Load() {
				time.Sleep(10 * time.Millisecond)
			}
			p.hold(src)
			if !toServer && lost.Load() {
				return
			}
			lose := toServer && p.matchLost(buf[:n])
			if lose {
				lost.Store(true)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
			if lose {
				time.Sleep(100 * time.Millisecond) // the server runs it; its reply is held below
				src.Close()
				dst.Close()
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// loseReplyOnce makes the next request containing marker reach the server
// and lose its reply (the connection is cut first).
func (p *tcpProxy) loseReplyOnce(marker []byte) {
	p.mu.Lock()
	p.lose = marker
	p.mu.Unlock()
}

func (p *tcpProxy) matchLost(chunk []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lose == nil || !bytes.Contains(chunk, p.lose) {
		return false
	}
	p.lose = nil
	return true
}

// hold sleeps the delay, cut short by a heal (slow(0)) or a cut, so no
// goroutine sleeps on for a connection that is gone.
func (p *tcpProxy) hold(src net.Conn) {
	for end := time.Now().Add(time.Duration(p.delay.Load())); time.Now().Before(end) && p.delay.Load() != 0; {
		p.mu.Lock()
		_, alive := p.conns[src]
		p.mu.Unlock()
		if !alive {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// slow delays every chunk by d from now on (0 restores full speed).
func (p *tcpProxy) slow(d time.Duration) { p.delay.Store(int64(d)) }

// pause stops forwarding, without closing anything, until resume.
func (p *tcpProxy) pause() { p.paused.Store(true) }

func (p *tcpProxy) resume() { p.paused.Store(false) }

// cut closes the listener and every proxied connection (and ends a pause,
// so no chunk stays held for a connection that is gone).
func (p *tcpProxy) cut() {
	p.paused.Store(false)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
}

// restore listens again on the same port.
func (p *tcpProxy) restore() {
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy restore: %v", err)
	}
	p.serve(ln)
}

// redisProcess is a real redis-server child on a spare port that keeps its
// data in a temp dir across restarts (SHUTDOWN SAVE, then load on start).
type redisProcess struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
}

func startRedisProcess(t *testing.T) *redisProcess {
	t.Helper()
	porttest.RequireEnv(t, porttest.RedisEnv) // the same gate as every Redis test
	return newRedisProcess(t)
}

// newRedisProcess is startRedisProcess without the gate, for the chaos run
// (which uses only servers it starts).
func newRedisProcess(t *testing.T) *redisProcess {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server not on PATH: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &redisProcess{t: t, port: port, dir: t.TempDir()}
	r.start()
	t.Cleanup(func() {
		if r.cmd != nil && r.cmd.Process != nil {
			_ = r.cmd.Process.Kill()
			_ = r.cmd.Wait()
		}
	})
	return r
}

func (r *redisProcess) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

func (r *redisProcess) start() {
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--dir", r.dir, "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no", "--daemonize", "no")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second) // a loaded CI machine starts it slowly
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", r.addr(), 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatal("redis-server did not start")
}

// stop saves the data set and stops the server (as a graceful restart would).
func (r *redisProcess) stop() {
	out, err := exec.Command("redis-cli", "-p", strconv.Itoa(r.port), "shutdown", "save").CombinedOutput()
	if err != nil && len(out) > 0 {
		r.t.Logf("redis shutdown: %v %s", err, out)
	}
	done := make(chan struct{})
	go func() { _ = r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-done
	}
	if _, err := filepath.Glob(filepath.Join(r.dir, "dump.rdb")); err != nil {
		r.t.Fatal(err)
	}
}
