package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"

	"github.com/devicegate/devicegate/ports/porttest"
)

// pgCluster is a private Postgres cluster (initdb in a temp dir, a free
// loopback port) that a test may stop and start: never the shared server.
type pgCluster struct {
	t    *testing.T
	bin  string
	dir  string
	port int
	cred *syscall.Credential // the postgres OS user when the test runs as root
}

// startPGCluster creates and starts a cluster, removed at cleanup.
func startPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	c := &pgCluster{t: t, bin: pgBinDir(t)}
	dir, err := os.MkdirTemp("", "dg-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	c.dir = dir
	if os.Geteuid() == 0 { // postgres refuses to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs a postgres OS user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c.run("initdb", "-D", c.data(), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
	c.start()
	t.Cleanup(func() { _ = c.exec("pg_ctl", "-D", c.data(), "-m", "immediate", "stop") })
	return c
}

// pgBinDir finds the Postgres server programs (Debian keeps them off PATH).
func pgBinDir(t *testing.T) string {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(m) == 0 {
		porttest.SkipOrFail(t, "initdb is neither on PATH nor under /usr/lib/postgresql")
	}
	sort.Strings(m)
	return filepath.Dir(m[len(m)-1])
}

func (c *pgCluster) data() string { return filepath.Join(c.dir, "data") }

// URL is the DATABASE_URL of the cluster's default database.
func (c *pgCluster) URL() string {
	return "postgres://postgres@127.0.0.1:" + strconv.Itoa(c.port) + "/postgres?sslmode=disable"
}

// start starts the server and waits until it accepts connections.
func (c *pgCluster) start() {
	c.pgctl("-w", "-t", "60", "-l", filepath.Join(c.dir, "log"), "-o",
		"-p "+strconv.Itoa(c.port)+" -k "+c.dir+" -c listen_addresses=127.0.0.1 -c fsync=off", "start")
}

// stop stops the server the way an operator's restart does (fast: sessions
// are terminated, nothing waits for clients).
func (c *pgCluster) stop() { c.pgctl("-w", "-m", "fast", "stop") }

func (c *pgCluster) pgctl(args ...string) {
	c.run("pg_ctl", append([]string{"-D", c.data()}, args...)...)
}

// run runs one of the server programs and fails the test if it fails.
func (c *pgCluster) run(prog string, args ...string) {
	c.t.Helper()
	if err := c.exec(prog, args...); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		c.t.Fatalf("%v\n%s", err, log)
	}
}

func (c *pgCluster) exec(prog string, args ...string) error {
	cmd := exec.Command(filepath.Join(c.bin, prog), args...)
	cmd.Dir = c.dir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %v: %w\n%s", prog, args, err, out)
	}
	return nil
}
