package gormrepo

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// timeLayout is how every time is written, in both dialects: UTC, always six
// fractional digits. The fixed width makes SQLite's text order equal time
// order (so <, <= and ORDER BY compare instants), and Postgres parses it as a
// timestamptz. Microseconds are what Postgres keeps; writing the same
// precision to SQLite makes both backends return equal values.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// sqlTime is a nullable time column: the zero time is NULL. It is a struct
// (not a named time.Time) so drivers cannot bypass Value and write their own
// format.
type sqlTime struct{ t time.Time }

// ts converts t for storage, truncated to microseconds.
func ts(t time.Time) sqlTime {
	if t.IsZero() {
		return sqlTime{}
	}
	return sqlTime{t.UTC().Truncate(time.Microsecond)}
}

// Time returns the stored time (zero for NULL), in UTC.
func (s sqlTime) Time() time.Time { return s.t }

// Value writes the fixed-width UTC text, or NULL for the zero time.
func (s sqlTime) Value() (driver.Value, error) {
	if s.t.IsZero() {
		return nil, nil
	}
	u := s.t.UTC().Truncate(time.Microsecond)
	if y := u.Year(); y < 1 || y > 9999 {
		return nil, fmt.Errorf("gormrepo: time %v outside years 1-9999", u)
	}
	return u.Format(timeLayout), nil
}

// Scan reads a timestamptz (Postgres) or the fixed-width text (SQLite).
func (s *sqlTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		s.t = time.Time{}
	case time.Time:
		s.t = x.UTC()
	case string:
		return s.parse(x)
	case []byte:
		return s.parse(string(x))
	default:
		return fmt.Errorf("gormrepo: cannot scan %T into a time", v)
	}
	return nil
}

func (s *sqlTime) parse(text string) error {
	t, err := time.Parse(time.RFC3339Nano, text)
	if err != nil {
		return fmt.Errorf("gormrepo: stored time %q: %w", text, err)
	}
	s.t = t.UTC()
	return nil
}
