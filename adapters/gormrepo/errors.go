package gormrepo

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/devicegate/devicegate/domain"
)

// SQLite result codes (primary codes are the low byte of extended ones).
const (
	sqliteBusy                 = 5
	sqliteLocked               = 6
	sqliteInterrupt            = 9 // a statement stopped by its context
	sqliteCantOpen             = 14
	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintUnique     = 2067
)

// translate maps a library error to the domain's, once, at this edge. op
// names the operation for the message; the error never carries bound values.
func translate(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound), errors.Is(err, sql.ErrNoRows):
		return domain.ErrNotFound
	case isUniqueViolation(err):
		return fmt.Errorf("%s: %w", op, domain.ErrConflict)
	case isUnavailable(err):
		return domain.Unavailable("database", fmt.Errorf("%s: %w", op, err))
	}
	return fmt.Errorf("gormrepo: %s: %w", op, err)
}

func isUniqueViolation(err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505" // unique_violation
	}
	var liteErr *gosqlite.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code() == sqliteConstraintUnique || liteErr.Code() == sqliteConstraintPrimaryKey
	}
	return false
}

// isSerializationFailure reports a Postgres statement that lost a
// serialization race (40001) and so wrote nothing: on a server, database or
// role whose default isolation is stricter than READ COMMITTED, a statement
// run outside devicegate's explicit READ COMMITTED transactions can meet it.
func isSerializationFailure(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "40001"
}

// isUnavailable reports errors that mean "the database cannot be reached or
// cannot serve now" (answered 503, worth a retry), as opposed to a bad query.
func isUnavailable(err error) bool {
	var (
		pgErr      *pgconn.PgError
		connectErr *pgconn.ConnectError
		netErr     net.Error
		liteErr    *gosqlite.Error
	)
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &connectErr), errors.As(err, &netErr):
		return true
	case errors.As(err, &pgErr):
		// Class 08 connection exception, 53 insufficient resources,
		// 57P01-57P03 shutdown / cannot connect now, 57014 a statement
		// cancelled (statement_timeout, or the driver cancelling it at the
		// context's deadline), and the transient conflicts a retry resolves:
		// 40001 serialization failure, 40P01 deadlock, 55P03 lock timeout.
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", "57014", "40001", "40P01", "55P03":
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "53")
	case errors.As(err, &liteErr):
		switch liteErr.Code() & 0xff {
		case sqliteBusy, sqliteLocked, sqliteCantOpen, sqliteInterrupt:
			return true
		}
		return false
	}
	// database/sql's "sql: database is closed" (unexported): a request
	// racing shutdown.
	msg := err.Error()
	return strings.Contains(msg, "sql: database is closed") || strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "conn closed") || strings.Contains(msg, "connection reset")
}
