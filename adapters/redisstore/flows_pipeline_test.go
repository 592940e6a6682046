package redisstore

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
	"github.com/devicegate/devicegate/ports/porttest"
	"github.com/redis/rueidis"
)

// countingClient is a rueidis.Client that counts what reaches Redis: one Do
// is one round trip, one DoMulti one batch (one round trip on one node).
// cluster makes it report ClientModeCluster, so that a standalone Redis
// serves the cluster code path; loseScript makes every batched EVALSHA name
// an unknown script, so that Redis answers NOSCRIPT as after a restart.
type countingClient struct {
	rueidis.Client
	cluster, loseScript bool
	trips               atomic.Int64
}

func (c *countingClient) Mode() rueidis.ClientMode {
	if c.cluster {
		return rueidis.ClientModeCluster
	}
	return c.Client.Mode()
}

func (c *countingClient) Do(ctx context.Context, cmd rueidis.Completed) rueidis.RedisResult {
	c.trips.Add(1)
	return c.Client.Do(ctx, cmd)
}

func (c *countingClient) DoMulti(ctx context.Context, multi ...rueidis.Completed) []rueidis.RedisResult {
	c.trips.Add(1)
	if c.loseScript {
		for i := range multi {
			if args := multi[i].Commands(); args[0] == "EVALSHA" {
				multi[i] = c.B().Arbitrary("EVALSHA", strings.Repeat("0", 40), args[2]).
					Keys(args[3]).Args(args[4:]...).Build()
			}
		}
	}
	return c.Client.DoMulti(ctx, multi...)
}

// The conformance suite once more, through the cluster code path (flow
// first, then its index, in two round trips) on the standalone Redis.
func TestFlowsConformanceInOrder(t *testing.T) {
	c, prefix := newTestClient(t)
	cc := &countingClient{Client: c, cluster: true}
	porttest.TestFlows(t, func(t *testing.T) ports.Flows { return NewFlows(cc, prefix+testPrefix()) })
}

// TestFlowCreateRoundTrips: on one node a Create whose user code is free
// costs one round trip (the flow and its index entry in one batch); a
// cluster keeps two, in order.
func TestFlowCreateRoundTrips(t *testing.T) {
	c, prefix := newTestClient(t)
	now := time.Now().Truncate(time.Second)
	for _, tc := range []struct {
		name    string
		cluster bool
		want    int64
	}{{"standalone", false, 1}, {"cluster", true, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			cc := &countingClient{Client: c, cluster: tc.cluster}
			s := NewFlows(cc, prefix+testPrefix())
			// The first Create may meet NOSCRIPT and load the script.
			if err := s.Create(t.Context(), porttest.NewFlow(t, now)); err != nil {
				t.Fatal(err)
			}
			cc.trips.Store(0)
			f := porttest.NewFlow(t, now)
			if err := s.Create(t.Context(), f); err != nil {
				t.Fatal(err)
			}
			if got := cc.trips.Load(); got != tc.want {
				t.Fatalf("Create with a free user code took %d round trips, want %d", got, tc.want)
			}
			if got, err := s.ByUserCode(t.Context(), f.UserCode, now); err != nil || got.DeviceCodeHash != f.DeviceCodeHash {
				t.Fatalf("ByUserCode: %q, %v; want the new flow", got.DeviceCodeHash, err)
			}
		})
	}
}

// TestFlowCreateOutcomes: what stays in Redis after each way a Create ends,
// on both code paths: a refused Create leaves neither its flow hash nor a
// changed index entry; a device code hash already stored leaves no index
// entry for the new user code; a server that lost its scripts (NOSCRIPT on
// the batched EVALSHA, after its SET NX went through) still ends with the
// flow and its index entry, or with nothing on a collision.
func TestFlowCreateOutcomes(t *testing.T) {
	c, prefix := newTestClient(t)
	now := time.Now().Truncate(time.Second)
	for _, tc := range []struct {
		name                string
		cluster, loseScript bool
	}{{"standalone", false, false}, {"cluster", true, false}, {"noscript", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			p := prefix + testPrefix()
			s := NewFlows(&countingClient{Client: c, cluster: tc.cluster, loseScript: tc.loseScript}, p)
			exists := func(f domain.Flow) bool {
				t.Helper()
				n, err := c.Do(t.Context(), c.B().Exists().Key(p+"flow:{"+f.DeviceCodeHash+"}").Build()).AsInt64()
				if err != nil {
					t.Fatal(err)
				}
				return n == 1
			}
			index := func(f domain.Flow) string {
				t.Helper()
				h, err := c.Do(t.Context(), c.B().Get().Key(p+"uc:{"+domain.HashSecret(f.UserCode)+"}").Build()).ToString()
				if rueidis.IsRedisNil(err) {
					return ""
				}
				if err != nil {
					t.Fatal(err)
				}
				return h
			}

			orig := porttest.NewFlow(t, now)
			if err := s.Create(t.Context(), orig); err != nil {
				t.Fatal(err)
			}
			if !exists(orig) || index(orig) != orig.DeviceCodeHash {
				t.Fatalf("after Create: flow stored %v, index %q; want the flow and its hash", exists(orig), index(orig))
			}

			dup := porttest.NewFlow(t, now)
			dup.UserCode = orig.UserCode
			if err := s.Create(t.Context(), dup); !errors.Is(err, domain.ErrUserCodeTaken) {
				t.Fatalf("Create over a live flow: %v, want ErrUserCodeTaken", err)
			}
			if exists(dup) || index(orig) != orig.DeviceCodeHash {
				t.Fatalf("after a refused Create: its flow stored %v, index %q; want no flow and %q",
					exists(dup), index(orig), orig.DeviceCodeHash)
			}

			same := porttest.NewFlow(t, now)
			same.DeviceCodeHash = orig.DeviceCodeHash
			err := s.Create(t.Context(), same)
			if err == nil || errors.Is(err, domain.ErrUserCodeTaken) {
				t.Fatalf("Create over a stored device code hash: %v, want an error other than ErrUserCodeTaken", err)
			}
			if got := index(same); got != "" {
				t.Fatalf("Create over a stored device code hash left an index entry for its user code: %q", got)
			}
			if got, err := s.ByUserCode(t.Context(), orig.UserCode, now); err != nil || got.UserCode != orig.UserCode {
				t.Fatalf("the stored flow after that: %+v, %v", got, err)
			}
		})
	}
}
