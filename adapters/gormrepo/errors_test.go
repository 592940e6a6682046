package gormrepo_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/domain"
)

// TestTranslate pins the edge mapping of errors that are hard to provoke on
// a real server: transient Postgres states are outages (503, worth a retry),
// a constraint or syntax error is not, and a closed pool is an outage.
func TestTranslate(t *testing.T) {
	cases := []struct {
		err  error
		want error // domain sentinel, or nil for "neither"
	}{
		{&pgconn.PgError{Code: "40001"}, domain.ErrUnavailable}, // serialization_failure
		{&pgconn.PgError{Code: "40P01"}, domain.ErrUnavailable}, // deadlock_detected
		{&pgconn.PgError{Code: "55P03"}, domain.ErrUnavailable}, // lock_not_available
		{&pgconn.PgError{Code: "57014"}, domain.ErrUnavailable}, // query_canceled (statement_timeout)
		{&pgconn.PgError{Code: "57P01"}, domain.ErrUnavailable}, // admin_shutdown
		{&pgconn.PgError{Code: "08006"}, domain.ErrUnavailable}, // connection_failure
		{&pgconn.PgError{Code: "53300"}, domain.ErrUnavailable}, // too_many_connections
		{&pgconn.PgError{Code: "23505"}, domain.ErrConflict},    // unique_violation
		{&pgconn.PgError{Code: "23514"}, nil},                   // check_violation: a bug, not an outage
		{&pgconn.PgError{Code: "42601"}, nil},                   // syntax_error
		{errors.New("sql: database is closed"), domain.ErrUnavailable},
		{fmt.Errorf("query: %w", context.DeadlineExceeded), domain.ErrUnavailable},
		{context.Canceled, nil},
	}
	for _, c := range cases {
		got := gormrepo.TranslateForTest("op", c.err)
		for _, s := range []error{domain.ErrUnavailable, domain.ErrConflict, domain.ErrNotFound} {
			if errors.Is(got, s) != errors.Is(s, c.want) {
				t.Errorf("translate(%v) = %v; errors.Is(%v) = %v, want %v", c.err, got, s, errors.Is(got, s), errors.Is(s, c.want))
			}
		}
	}
}
