package redisstore

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/ports"
	"github.com/devicegate/devicegate/ports/porttest"
	"github.com/redis/rueidis"
)

// TestCluster runs the suites against a three-master Redis Cluster started
// here, through rueidis' cluster client: every script touches one key (hash
// tags keep each key in its own slot), so nothing may fail with CROSSSLOT
// and every node must serve its share. Requires redis-server and redis-cli
// on PATH (skipped otherwise; a failure under CI=true).
func TestCluster(t *testing.T) {
	t.Parallel() // mostly waiting on child processes
	cli := requireBinary(t, "redis-cli")
	requireBinary(t, "redis-server")
	dir := t.TempDir()
	var nodes []*redisProc
	for range 3 {
		port := freePort(t)
		nodes = append(nodes, startRedis(t, dir, port, "--cluster-enabled", "yes",
			"--cluster-config-file", dir+"/nodes-"+itoa(port)+".conf", "--cluster-node-timeout", "2000"))
	}
	args := []string{"--cluster", "create"}
	for _, n := range nodes {
		args = append(args, n.addr())
	}
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, n := range nodes {
		err := waitFor(10*time.Second, func() error {
			out, err := exec.CommandContext(ctx, cli, "-h", "127.0.0.1", "-p", itoa(n.port), "cluster", "info").Output()
			if err == nil && !strings.Contains(string(out), "cluster_state:ok") {
				return errors.New("cluster_state is not ok on " + n.addr())
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// The documented multi-seed URL form; rueidis detects the cluster itself.
	opt, err := ClientOptions("redis://" + nodes[0].addr() + "?addr=" + nodes[1].addr() + "&addr=" + nodes[2].addr())
	if err != nil {
		t.Fatal(err)
	}
	c, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatalf("cluster client: %v", err)
	}
	defer c.Close()
	if got := len(c.Nodes()); got != 3 {
		t.Fatalf("the client sees %d nodes, want 3 (not a cluster client?)", got)
	}

	prefix := func() string { return "dgcluster:" + testPrefix() }
	t.Run("Flows", func(t *testing.T) {
		porttest.TestFlows(t, func(t *testing.T) ports.Flows { return NewFlows(c, prefix()) })
	})
	t.Run("RateLimiter", func(t *testing.T) {
		porttest.TestRateLimiter(t, func(t *testing.T) ports.RateLimiter { return NewRateLimiter(c, prefix()) })
	})
	t.Run("NonceStore", func(t *testing.T) {
		porttest.TestNonceStore(t, func(t *testing.T) ports.NonceStore { return NewNonceStore(c, prefix()) })
	})
	t.Run("Locker", func(t *testing.T) {
		porttest.TestLocker(t, func(t *testing.T) ports.Locker { return NewLocker(c, prefix()) })
	})
	t.Run("TokenCache", func(t *testing.T) {
		porttest.TestTokenCache(t, func(t *testing.T) ports.TokenCache { return NewTokenCache(c, prefix()) })
	})

	// Every master holds some of the keys the suites wrote.
	for _, n := range nodes {
		out, err := exec.CommandContext(ctx, cli, "-h", "127.0.0.1", "-p", itoa(n.port), "dbsize").Output()
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(string(out)) == "0" {
			t.Errorf("node %s holds no keys: the keys are not spread over the slots", n.addr())
		}
	}
}
