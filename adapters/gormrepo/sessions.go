package gormrepo

import (
	"context"
	"fmt"
	"time"

	"github.com/devicegate/devicegate/domain"
)

// CreateSession stores s (only the hash of the session id). A second session
// with the same hash is domain.ErrConflict.
func (db *DB) CreateSession(ctx context.Context, s domain.ConsoleSession) error {
	account, ok := normID(s.AccountID)
	if !ok {
		return fmt.Errorf("gormrepo: create session: account id %q is not a UUID", s.AccountID)
	}
	ws, ok := nullID(s.WorkspaceID)
	if !ok {
		return fmt.Errorf("gormrepo: create session: workspace id %q is not a UUID", s.WorkspaceID)
	}
	ctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	row := sessionRow{
		IDHash: s.IDHash, AccountID: account, WorkspaceID: ws, CSRFToken: s.CSRFToken,
		CreatedAt: ts(s.CreatedAt), ExpiresAt: ts(s.ExpiresAt),
	}
	return translate("create session", db.gorm.WithContext(ctx).Create(&row).Error)
}

// Session returns the session with idHash unless it expired at now
// (expires_at <= now).
func (db *DB) Session(ctx context.Context, idHash string, now time.Time) (domain.ConsoleSession, error) {
	ctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	var row sessionRow
	err := db.reader(ctx).Where("id_hash = ? AND expires_at > ?", idHash, ts(now)).Take(&row).Error
	if err != nil {
		return domain.ConsoleSession{}, translate("session", err)
	}
	return row.domain(), nil
}

// DeleteSession removes the session; a missing one is not an error.
func (db *DB) DeleteSession(ctx context.Context, idHash string) error {
	ctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	return translate("delete session", db.gorm.WithContext(ctx).Where("id_hash = ?", idHash).Delete(&sessionRow{}).Error)
}

// PruneSessions deletes the sessions expired at now and returns how many. It
// is not part of a port: Session already hides expired rows, and this only
// keeps the table small (the prune job may call it).
func (db *DB) PruneSessions(ctx context.Context, now time.Time) (int64, error) {
	ctx, cancel := bounded(ctx, maintenanceTimeout)
	defer cancel()
	res := db.gorm.WithContext(ctx).Where("expires_at <= ?", ts(now)).Delete(&sessionRow{})
	return res.RowsAffected, translate("prune sessions", res.Error)
}
