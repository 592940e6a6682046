package gormrepo

import (
	"context"
	"fmt"
)

// ExecForTest runs a statement on db (test setup and teardown only).
func ExecForTest(ctx context.Context, db *DB, query string, args ...any) error {
	return db.gorm.WithContext(ctx).Exec(query, args...).Error
}

// ScalarForTest runs a query returning one text value.
func ScalarForTest(ctx context.Context, db *DB, query string) (string, error) {
	var v string
	err := db.sql.QueryRowContext(ctx, query).Scan(&v)
	return v, err
}

// RowTextForTest returns every column of the oauth_access_tokens row with id
// as text, as the database holds it.
func RowTextForTest(ctx context.Context, db *DB, id string) ([]string, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT * FROM oauth_access_tokens WHERE id = "+db.placeholder(), id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	if !rows.Next() {
		return nil, fmt.Errorf("no row %s", id)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	out := make([]string, len(cols))
	for i, v := range vals {
		out[i] = fmt.Sprint(v)
	}
	return out, rows.Err()
}

func (db *DB) placeholder() string {
	if db.dialect == dialectPostgres {
		return "$1"
	}
	return "?"
}

// TranslateForTest is translate, for table tests of the error mapping.
var TranslateForTest = translate
