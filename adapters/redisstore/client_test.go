package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/redis/rueidis"
)

// TestClientOptions: the accepted URL forms and the bounds applied to them.
func TestClientOptions(t *testing.T) {
	opt, err := ClientOptions("redis://user:pw@h1:6380/2?addr=h2:6381&addr=h3:6379")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"h1:6380", "h2:6381", "h3:6379"}; fmt.Sprint(opt.InitAddress) != fmt.Sprint(want) {
		t.Errorf("InitAddress = %v, want %v", opt.InitAddress, want)
	}
	if opt.Username != "user" || opt.Password != "pw" || opt.SelectDB != 2 || opt.TLSConfig != nil {
		t.Errorf("credentials/db/TLS: %q %q %d %v", opt.Username, opt.Password, opt.SelectDB, opt.TLSConfig)
	}
	if opt.Dialer.Timeout != dialTimeout || opt.ConnWriteTimeout != connTimeout || opt.DisableCache || opt.RetryDelay == nil {
		t.Errorf("bounds: dial %v write %v DisableCache %v", opt.Dialer.Timeout, opt.ConnWriteTimeout, opt.DisableCache)
	}

	tls, err := ClientOptions("rediss://cache.example.com?dial_timeout=300ms")
	if err != nil {
		t.Fatal(err)
	}
	if tls.TLSConfig == nil || tls.TLSConfig.ServerName != "cache.example.com" || tls.Dialer.Timeout != 300*time.Millisecond {
		t.Errorf("rediss: TLS %v, dial timeout %v", tls.TLSConfig, tls.Dialer.Timeout)
	}

	for _, bad := range []string{"http://h1", "redis://h1/x/y", "redis://h1?db=x"} {
		if _, err := ClientOptions(bad); err == nil {
			t.Errorf("ClientOptions(%q) accepted", bad)
		}
	}
}

// TestNewClientNoServer: nothing listening is an unavailable backend, fast.
func TestNewClientNoServer(t *testing.T) {
	start := time.Now()
	_, err := NewClient(fmt.Sprintf("redis://127.0.0.1:%d", freePort(t)))
	if !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("NewClient with no server: %v, want domain.ErrUnavailable", err)
	}
	if took := time.Since(start); took > outageBound {
		t.Fatalf("NewClient with no server took %v", took)
	}
}

// TestWrapErr: the edge translation of library errors.
func TestWrapErr(t *testing.T) {
	cases := []struct {
		err         error
		unavailable bool
	}{
		{io.EOF, true},
		{context.DeadlineExceeded, true},
		{rueidis.ErrClosing, true},
		{fmt.Errorf("dial: %w", errors.New("connection refused")), true},
		{context.Canceled, false},
	}
	for _, c := range cases {
		got := wrapErr(c.err)
		if errors.Is(got, domain.ErrUnavailable) != c.unavailable || !errors.Is(got, c.err) {
			t.Errorf("wrapErr(%v) = %v; unavailable want %v, and it must wrap the cause", c.err, got, c.unavailable)
		}
	}
	if wrapErr(nil) != nil {
		t.Error("wrapErr(nil) != nil")
	}
}

// TestWrapErrServerReply: a server error reply that is a programming error
// (here WRONGTYPE) is not an outage.
func TestWrapErrServerReply(t *testing.T) {
	c, prefix := newTestClient(t)
	key := prefix + "string"
	if err := c.Do(t.Context(), c.B().Set().Key(key).Value("v").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	err := wrapErr(c.Do(t.Context(), c.B().Hget().Key(key).Field("f").Build()).Error())
	if err == nil || errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("WRONGTYPE translated to %v, want a plain error", err)
	}
	if _, ok := rueidis.IsRedisErr(errors.Unwrap(err)); !ok {
		t.Fatalf("the reply error is not wrapped: %v", err)
	}
	if err := NewPinger(c).Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func TestPingerName(t *testing.T) {
	if n := NewPinger(nil).Name(); n != "redis" {
		t.Fatalf("Name = %q", n)
	}
}
