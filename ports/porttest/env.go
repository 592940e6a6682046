package porttest

import (
	"os"
	"testing"
)

// The environment variables that point tests at the real backends
// (`make test` sets both).
const (
	// PostgresEnv holds the DSN of the test Postgres database.
	PostgresEnv = "DEVICEGATE_TEST_POSTGRES"
	// RedisEnv holds the host:port of the test Redis.
	RedisEnv = "DEVICEGATE_TEST_REDIS"
)

// SkipOrFail ends a test that cannot reach something it needs (a service, a
// program): locally it skips with the message, but under CI=true it fails,
// because CI must exercise every real edge and a silent skip would hide that
// it did not.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format+" (required when CI=true)", args...)
	}
	t.Skipf(format, args...)
}

// RequireEnv returns the value of the environment variable name; when it is
// unset the test ends through SkipOrFail with a message naming the variable.
func RequireEnv(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		SkipOrFail(t, "%s is not set; set it to run this test (make test does)", name)
	}
	return v
}
