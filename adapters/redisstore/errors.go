package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/devicegate/devicegate/domain"
	"github.com/redis/rueidis"
)

// wrapErr translates a rueidis error once, at the edge. Callers handle the
// nil reply (rueidis.IsRedisNil) themselves, because its meaning depends on
// the command. Network errors, timeouts, a closed client and the server
// states that mean "not serving now" become domain.Unavailable("redis", err);
// a caller's own cancellation stays a context.Canceled; any other server
// error is a programming error and is returned wrapped as is.
func wrapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("redis: %w", err)
	}
	if re, ok := rueidis.IsRedisErr(err); ok && !transient(re) {
		return fmt.Errorf("redis: %w", err)
	}
	return domain.Unavailable("redis", err)
}

// transient reports server replies that mean the node cannot serve now:
// among them OOM (maxmemory reached with noeviction) and MISCONF (writes
// refused after a failed snapshot), which refuse every write until an
// operator or the server itself clears the condition.
func transient(re *rueidis.RedisError) bool {
	if re.IsLoading() || re.IsClusterDown() || re.IsTryAgain() {
		return true
	}
	msg := re.Error()
	for _, p := range []string{"MASTERDOWN", "READONLY", "BUSY ", "NOREPLICAS", "OOM ", "MISCONF "} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
