package gormrepo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// CreateAccount stores the account (email lower-cased) and its membership of
// a.Workspace, creating that workspace with the account as owner when no
// workspace has the name, else joining it as a normal member. All or nothing:
// a taken email (domain.ErrConflict) leaves no workspace behind. An empty
// a.Workspace creates no membership; an empty a.WorkspaceID gets a new UUID.
func (db *DB) CreateAccount(ctx context.Context, a ports.NewAccount) (domain.Account, error) {
	id, ok := normID(a.ID)
	if !ok {
		return domain.Account{}, fmt.Errorf("gormrepo: create account: id %q is not a UUID", a.ID)
	}
	wsID := a.WorkspaceID
	if wsID == "" {
		wsID = uuid.NewString()
	}
	if wsID, ok = normID(wsID); !ok {
		return domain.Account{}, fmt.Errorf("gormrepo: create account: workspace id %q is not a UUID", a.WorkspaceID)
	}
	ctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	row := accountRow{
		ID: id, Email: strings.ToLower(strings.TrimSpace(a.Email)), Name: a.Name,
		PasswordHash: a.PasswordHash, Status: statusActive, CreatedAt: ts(a.Now),
	}
	err := db.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if a.Workspace == "" {
			return nil
		}
		// ON CONFLICT DO NOTHING: a concurrent creator of the same name wins
		// and this account joins its workspace instead of failing.
		created := tx.Exec(`INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO NOTHING`, wsID, a.Workspace, ts(a.Now))
		if created.Error != nil {
			return created.Error
		}
		role := roleOwner
		if created.RowsAffected == 0 {
			role = roleNormal
			var ws workspaceRow
			if err := tx.Where("name = ?", a.Workspace).Take(&ws).Error; err != nil {
				return err
			}
			wsID = ws.ID
		}
		return tx.Create(&memberRow{WorkspaceID: wsID, AccountID: id, Role: role, Current: true, CreatedAt: ts(a.Now)}).Error
	})
	if err != nil {
		return domain.Account{}, translate("create account", err)
	}
	return row.domain(), nil
}

// PasswordHashByEmail returns the account with email (any case) and its
// stored password hash, whatever the account's status.
func (db *DB) PasswordHashByEmail(ctx context.Context, email string) (domain.Account, string, error) {
	ctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	var row accountRow
	err := db.reader(ctx).Where("email = ?", strings.ToLower(strings.TrimSpace(email))).Take(&row).Error
	if err != nil {
		return domain.Account{}, "", translate("account by email", err)
	}
	return row.domain(), row.PasswordHash, nil
}

// Account returns the account with id; a malformed id is not found.
func (db *DB) Account(ctx context.Context, id string) (domain.Account, error) {
	id, ok := normID(id)
	if !ok {
		return domain.Account{}, domain.ErrNotFound
	}
	ctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	var row accountRow
	if err := db.reader(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return domain.Account{}, translate("account", err)
	}
	return row.domain(), nil
}

// Workspaces returns the account's memberships in the order it joined them.
func (db *DB) Workspaces(ctx context.Context, accountID string) ([]domain.Workspace, error) {
	out := []domain.Workspace{}
	id, ok := normID(accountID)
	if !ok {
		return out, nil
	}
	ctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	var rows []struct {
		ID      string `gorm:"column:id"`
		Name    string `gorm:"column:name"`
		Role    string `gorm:"column:role"`
		Current bool   `gorm:"column:current"`
	}
	err := db.reader(ctx).Raw(`SELECT w.id, w.name, m.role, m.current
		FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
		WHERE m.account_id = ? ORDER BY m.created_at, w.name`, id).Scan(&rows).Error
	if err != nil {
		return nil, translate("workspaces", err)
	}
	for _, r := range rows {
		out = append(out, domain.Workspace{ID: r.ID, Name: r.Name, Role: r.Role, Current: r.Current})
	}
	return out, nil
}

// ActiveAccountByEmail reports whether email (any case) is an active account's.
func (db *DB) ActiveAccountByEmail(ctx context.Context, email string) (bool, error) {
	ctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	var n int64
	err := db.reader(ctx).Model(&accountRow{}).
		Where("email = ? AND status = ?", strings.ToLower(strings.TrimSpace(email)), statusActive).Count(&n).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return false, translate("account by email", err)
	}
	return n > 0, nil
}
