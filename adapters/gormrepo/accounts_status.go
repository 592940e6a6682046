package gormrepo

import (
	"context"
	"strings"

	"gorm.io/gorm"

	"github.com/devicegate/devicegate/domain"
)

// statusDisabled is the status of an account that may not sign in, approve
// or use its tokens.
const statusDisabled = "disabled"

// SetAccountActive sets the status of the account with email (any case) and
// returns the account as it now is.
func (db *DB) SetAccountActive(ctx context.Context, email string, active bool) (domain.Account, error) {
	status := statusDisabled
	if active {
		status = statusActive
	}
	ctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	var row accountRow
	err := db.tx(ctx, func(tx *gorm.DB) error {
		q := tx.Where("email = ?", strings.ToLower(strings.TrimSpace(email)))
		if err := q.Session(&gorm.Session{}).Take(&row).Error; err != nil {
			return err
		}
		row.Status = status
		return tx.Model(&accountRow{}).Where("id = ?", row.ID).Update("status", status).Error
	})
	if err != nil {
		return domain.Account{}, translate("set account status", err)
	}
	return row.domain(), nil
}

// DeleteAccount deletes the account with email (any case); its memberships
// go with it (ON DELETE CASCADE).
func (db *DB) DeleteAccount(ctx context.Context, email string) (domain.Account, error) {
	ctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	var row accountRow
	err := db.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("email = ?", strings.ToLower(strings.TrimSpace(email))).Take(&row).Error; err != nil {
			return err
		}
		return tx.Where("id = ?", row.ID).Delete(&accountRow{}).Error
	})
	if err != nil {
		return domain.Account{}, translate("delete account", err)
	}
	return row.domain(), nil
}

// DeleteAccountSessions deletes every console session of the account.
func (db *DB) DeleteAccountSessions(ctx context.Context, accountID string) (int64, error) {
	id, ok := normID(accountID)
	if !ok {
		return 0, nil
	}
	ctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	res := db.gorm.WithContext(ctx).Where("account_id = ?", id).Delete(&sessionRow{})
	return res.RowsAffected, translate("delete account sessions", res.Error)
}
