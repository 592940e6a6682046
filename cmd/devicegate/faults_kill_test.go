package main

import (
	"bytes"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
)

// process is a devicegate serve child process.
type process struct {
	cmd  *exec.Cmd
	base string
	out  *syncWriter
}

// startProcess runs `bin serve` with vars as its whole configuration and
// waits until it is ready; it is killed at cleanup if still running.
func startProcess(t *testing.T, bin string, vars map[string]string) *process {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &process{cmd: exec.Command(bin, "serve"), base: "http://" + addr, out: &syncWriter{}}
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LISTEN_ADDR=" + addr}
	for k, v := range vars {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill() })
	client := &http.Client{Timeout: 2 * time.Second}
	eventually(t, 60*time.Second, "the devicegate process ready", func() bool {
		resp, err := client.Get(p.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	client.CloseIdleConnections()
	return p
}

// kill sends SIGKILL (no shutdown hooks run) and reaps the process.
func (p *process) kill() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
}

// flowClaim returns the claim id the flow of deviceCode holds in Redis.
func flowClaim(t *testing.T, redisAddr, deviceCode string) string {
	t.Helper()
	_, port, _ := net.SplitHostPort(redisAddr)
	key := "devicegate:flow:{" + domain.HashSecret(deviceCode) + "}"
	out, err := exec.Command("redis-cli", "-p", port, "HGET", key, "cl").Output()
	if err != nil {
		t.Fatalf("redis-cli: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestFaultInstanceKilledBetweenClaimAndMint runs a real devicegate process
// whose Postgres path the test holds, lets it claim an approved flow (the
// claim lands in Redis, the next step waits on Postgres), and SIGKILLs it.
// The CLI then polls another instance: it waits out the dead claimant's
// lease (authorization_pending, never a 5xx), then gets its token, once.
func TestFaultInstanceKilledBetweenClaimAndMint(t *testing.T) {
	verifyNoLeaks(t)
	bin := buildBinary(t)
	rp := startRedisProcess(t)
	direct := postgresSchema(t)
	u, _ := url.Parse(direct)
	proxy := newTCPProxy(t, u.Host)
	u.Host = proxy.addr
	vars := map[string]string{"DATABASE_URL": direct, "REDIS_URL": "redis://" + rp.addr() + "/0"}
	r := newFaultRig(t, vars, direct) // the survivor, straight to Postgres
	victimVars := map[string]string{"DATABASE_URL": u.String(), "REDIS_URL": vars["REDIS_URL"], "SECRET_KEY": vars["SECRET_KEY"]}
	victim := startProcess(t, bin, victimVars)

	c := r.approvedFlow("killed-mid-poll")
	if claim := flowClaim(t, rp.addr(), c.deviceCode); claim != "" {
		t.Fatalf("an unpolled flow already holds claim %q", claim)
	}
	proxy.pause()
	done := make(chan struct{})
	go func() {
		defer close(done)
		form := url.Values{"client_id": {"difyctl"}, "device_code": {c.deviceCode}, "grant_type": {domain.GrantTypeDevice}}
		req, _ := http.NewRequest(http.MethodPost, victim.base+"/openapi/v1/oauth/device/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		client := &http.Client{Timeout: time.Minute}
		if resp, err := client.Do(req); err == nil {
			var body bytes.Buffer
			_, _ = body.ReadFrom(resp.Body)
			resp.Body.Close()
			t.Errorf("the victim answered before it was killed: %d %s", resp.StatusCode, body.String())
		}
		client.CloseIdleConnections()
	}()
	eventually(t, 30*time.Second, "the victim's claim in Redis", func() bool {
		return flowClaim(t, rp.addr(), c.deviceCode) != ""
	})
	victim.kill()
	<-done
	proxy.resume()
	c.last = time.Now() // the victim's poll counts for the interval

	c.settle(c.pollUntilToken(domain.ClaimLease + faultTokenBound))
	r.recovered("killed-mid-poll-after")
	if t.Failed() {
		t.Logf("victim output:\n%s", victim.out.String())
	}
}
