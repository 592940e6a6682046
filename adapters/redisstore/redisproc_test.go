package redisstore

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/devicegate/devicegate/ports/porttest"
)

// requireBinary returns the path of a program on PATH; when missing the test
// skips, or fails under CI=true.
func requireBinary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		porttest.SkipOrFail(t, "%s is not on PATH", name)
	}
	return p
}

// freePort returns a loopback port that is free now, and whose cluster bus
// port (port + 10000) is free too.
func freePort(t testing.TB) int {
	t.Helper()
	for range 50 {
		p := 20000 + rand.IntN(20000)
		if portFree(p) && portFree(p+10000) {
			return p
		}
	}
	t.Fatal("no free loopback port pair found")
	return 0
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// redisProc is a redis-server child process on a loopback port.
type redisProc struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	args []string
	cmd  *exec.Cmd
	out  bytes.Buffer
}

// startRedis starts redis-server on port (no persistence) with extra
// arguments and waits until it answers PING; it is killed at cleanup.
func startRedis(t testing.TB, dir string, port int, extra ...string) *redisProc {
	t.Helper()
	p := &redisProc{t: t, bin: requireBinary(t, "redis-server"), dir: dir, port: port, args: extra}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *redisProc) addr() string { return net.JoinHostPort("127.0.0.1", itoa(p.port)) }

func itoa(n int) string { return strconv.Itoa(n) }

func (p *redisProc) start() {
	p.t.Helper()
	args := append([]string{"--port", strconv.Itoa(p.port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--daemonize", "no", "--dir", p.dir}, p.args...)
	p.out.Reset()
	p.cmd = exec.Command(p.bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start redis-server: %v", err)
	}
	if err := waitFor(5*time.Second, func() error { return pingRaw(p.addr()) }); err != nil {
		p.stop()
		p.t.Fatalf("redis-server on %s did not answer: %v\n%s", p.addr(), err, p.out.String())
	}
}

// stop kills the process (SIGKILL: an outage, not a shutdown) and reaps it.
func (p *redisProc) stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.cmd = nil
}

// pingRaw sends an inline PING over a fresh TCP connection.
func pingRaw(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 16)
	n, err := conn.Read(buf)
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(buf[:n], []byte("+PONG")) {
		return fmt.Errorf("unexpected PING reply %q", buf[:n])
	}
	return nil
}

// waitFor retries fn every 50 ms until it returns nil or d has passed.
func waitFor(d time.Duration, fn func() error) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		err := fn()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}
