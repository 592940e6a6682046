package gormrepo

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/devicegate/devicegate/ports"
)

// PlanForTest returns the query plan SQLite chose for the revocation feed's
// query, one line per plan step.
func PlanForTest(ctx context.Context, db *DB) (string, error) {
	var steps []struct {
		Detail string `gorm:"column:detail"`
	}
	err := db.gorm.WithContext(ctx).Raw(`EXPLAIN QUERY PLAN ` +
		db.gorm.ToSQL(func(tx *gorm.DB) *gorm.DB {
			var out []revocationRow
			after := ports.Revocation{RevokedAt: time.Now(), ID: "00000000-0000-0000-0000-000000000001"}
			return revokedAfterQuery(tx, after, 100).Scan(&out)
		})).Scan(&steps).Error
	var b strings.Builder
	for _, s := range steps {
		b.WriteString(s.Detail + "\n")
	}
	return b.String(), err
}
