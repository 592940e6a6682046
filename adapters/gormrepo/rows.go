package gormrepo

import (
	"database/sql"

	"github.com/google/uuid"

	"github.com/devicegate/devicegate/domain"
)

// tokenRow is one row of oauth_access_tokens. Only the hash of a token is
// stored; NULL token_hash means revoked or hard-expired.
type tokenRow struct {
	ID            string         `gorm:"column:id;primaryKey"`
	SubjectEmail  string         `gorm:"column:subject_email"`
	SubjectIssuer string         `gorm:"column:subject_issuer"`
	AccountID     sql.NullString `gorm:"column:account_id"`
	ClientID      string         `gorm:"column:client_id"`
	DeviceLabel   string         `gorm:"column:device_label"`
	Prefix        string         `gorm:"column:prefix"`
	TokenHash     sql.NullString `gorm:"column:token_hash"`
	CreatedAt     sqlTime        `gorm:"column:created_at;autoCreateTime:false"`
	LastUsedAt    sqlTime        `gorm:"column:last_used_at"`
	ExpiresAt     sqlTime        `gorm:"column:expires_at"`
	RevokedAt     sqlTime        `gorm:"column:revoked_at"`
}

// TableName names the table for GORM.
func (tokenRow) TableName() string { return "oauth_access_tokens" }

func (r tokenRow) domain() domain.AccessToken {
	return domain.AccessToken{
		ID: r.ID, SubjectEmail: r.SubjectEmail, SubjectIssuer: r.SubjectIssuer, AccountID: r.AccountID.String,
		ClientID: r.ClientID, DeviceLabel: r.DeviceLabel, Prefix: r.Prefix, TokenHash: r.TokenHash.String,
		CreatedAt: r.CreatedAt.Time(), LastUsedAt: r.LastUsedAt.Time(), ExpiresAt: r.ExpiresAt.Time(),
		RevokedAt: r.RevokedAt.Time(),
	}
}

// accountRow is one row of accounts; Email is stored lower-cased.
type accountRow struct {
	ID           string  `gorm:"column:id;primaryKey"`
	Email        string  `gorm:"column:email"`
	Name         string  `gorm:"column:name"`
	PasswordHash string  `gorm:"column:password_hash"`
	Status       string  `gorm:"column:status"`
	CreatedAt    sqlTime `gorm:"column:created_at;autoCreateTime:false"`
}

// TableName names the table for GORM.
func (accountRow) TableName() string { return "accounts" }

// statusActive is the status of an account that may sign in and approve.
const statusActive = "active"

func (r accountRow) domain() domain.Account {
	return domain.Account{ID: r.ID, Email: r.Email, Name: r.Name, Active: r.Status == statusActive}
}

// workspaceRow is one row of workspaces; names are unique.
type workspaceRow struct {
	ID        string  `gorm:"column:id;primaryKey"`
	Name      string  `gorm:"column:name"`
	CreatedAt sqlTime `gorm:"column:created_at;autoCreateTime:false"`
}

// TableName names the table for GORM.
func (workspaceRow) TableName() string { return "workspaces" }

// memberRow is one row of workspace_members.
type memberRow struct {
	WorkspaceID string  `gorm:"column:workspace_id;primaryKey"`
	AccountID   string  `gorm:"column:account_id;primaryKey"`
	Role        string  `gorm:"column:role"`
	Current     bool    `gorm:"column:current"`
	CreatedAt   sqlTime `gorm:"column:created_at;autoCreateTime:false"`
}

// TableName names the table for GORM.
func (memberRow) TableName() string { return "workspace_members" }

// Workspace roles (the reference's names): whoever creates a workspace owns
// it; accounts joining later are normal members.
const (
	roleOwner  = "owner"
	roleNormal = "normal"
)

// sessionRow is one row of console_sessions, keyed by the SHA-256 hex of the cookie.
type sessionRow struct {
	IDHash      string         `gorm:"column:id_hash;primaryKey"`
	AccountID   string         `gorm:"column:account_id"`
	WorkspaceID sql.NullString `gorm:"column:workspace_id"`
	CSRFToken   string         `gorm:"column:csrf_token"`
	CreatedAt   sqlTime        `gorm:"column:created_at;autoCreateTime:false"`
	ExpiresAt   sqlTime        `gorm:"column:expires_at"`
}

// TableName names the table for GORM.
func (sessionRow) TableName() string { return "console_sessions" }

func (r sessionRow) domain() domain.ConsoleSession {
	return domain.ConsoleSession{
		IDHash: r.IDHash, AccountID: r.AccountID, WorkspaceID: r.WorkspaceID.String, CSRFToken: r.CSRFToken,
		CreatedAt: r.CreatedAt.Time(), ExpiresAt: r.ExpiresAt.Time(),
	}
}

// normID returns the canonical lower-case form of a UUID. ok is false for
// anything else, which callers answer as "not found": ids arrive from URLs,
// and Postgres would reject a malformed uuid with a query error.
func normID(id string) (string, bool) {
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		return "", false
	}
	return u.String(), true
}

// nullID maps "" to NULL and anything else to its canonical UUID form.
func nullID(id string) (sql.NullString, bool) {
	if id == "" {
		return sql.NullString{}, true
	}
	n, ok := normID(id)
	return sql.NullString{String: n, Valid: ok}, ok
}
