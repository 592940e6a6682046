-- Built-in accounts, workspaces, memberships and console sessions (SPEC 7.1),
-- SQLite flavour. Times use the fixed-width UTC text form described in
-- 00001_access_tokens.sql; booleans are 0/1 integers.

-- +goose Up
CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    -- Stored lower-cased, so the plain unique constraint is case-insensitive.
    email         TEXT NOT NULL CHECK (email = lower(email)),
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'active',
    created_at    TEXT NOT NULL CHECK (length(created_at) = 27 AND created_at LIKE '%Z'),
    CONSTRAINT uq_accounts_email UNIQUE (email)
) STRICT;

CREATE TABLE workspaces (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL CHECK (length(created_at) = 27 AND created_at LIKE '%Z'),
    CONSTRAINT uq_workspaces_name UNIQUE (name)
) STRICT;

CREATE TABLE workspace_members (
    workspace_id TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    account_id   TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role         TEXT    NOT NULL,
    current      INTEGER NOT NULL DEFAULT 0 CHECK (current IN (0, 1)),
    created_at   TEXT    NOT NULL CHECK (length(created_at) = 27 AND created_at LIKE '%Z'),
    PRIMARY KEY (workspace_id, account_id)
) STRICT;
CREATE INDEX ix_workspace_members_account ON workspace_members (account_id);

-- Console sessions are addressed by the SHA-256 hex of the cookie value; the
-- plaintext session id is never stored.
CREATE TABLE console_sessions (
    id_hash      TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL,
    workspace_id TEXT NULL,
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL CHECK (length(created_at) = 27 AND created_at LIKE '%Z'),
    expires_at   TEXT NOT NULL CHECK (length(expires_at) = 27 AND expires_at LIKE '%Z')
) STRICT;
CREATE INDEX ix_console_sessions_expires ON console_sessions (expires_at);

-- +goose Down
DROP TABLE console_sessions;
DROP TABLE workspace_members;
DROP TABLE workspaces;
DROP TABLE accounts;
