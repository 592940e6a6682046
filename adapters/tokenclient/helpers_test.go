package tokenclient_test

import (
	"sync"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/tokenclient"
	"github.com/devicegate/devicegate/adapters/tokenclient/tokenclienttest"
)

const secret = "s3cret-introspection"

// clock is a settable clock for Config.Now, starting at the real time so
// the fake server (which uses time.Now for exp) and the client agree.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// setup starts a fake devicegate and a client on it with a fake clock;
// cfg's BaseURL, Secret and Now are filled in when empty.
func setup(t *testing.T, cfg tokenclient.Config) (*tokenclient.Client, *tokenclienttest.Server, *clock) {
	t.Helper()
	srv := tokenclienttest.NewServer(secret)
	t.Cleanup(srv.Close)
	clk := &clock{t: time.Now()}
	if cfg.BaseURL == "" {
		cfg.BaseURL = srv.URL
	}
	if cfg.Secret == "" {
		cfg.Secret = secret
	}
	if cfg.Now == nil {
		cfg.Now = clk.Now
	}
	c, err := tokenclient.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, srv, clk
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
