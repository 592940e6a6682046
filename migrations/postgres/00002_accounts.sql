-- Built-in accounts, workspaces, memberships and console sessions (SPEC 7.1).

-- +goose Up
CREATE TABLE accounts (
    id            uuid         PRIMARY KEY,
    -- Stored lower-cased, so the plain unique index is case-insensitive.
    email         varchar(320) NOT NULL,
    name          varchar(255) NOT NULL,
    password_hash varchar(255) NOT NULL,
    status        varchar(16)  NOT NULL DEFAULT 'active',
    created_at    timestamptz  NOT NULL,
    CONSTRAINT uq_accounts_email UNIQUE (email),
    CONSTRAINT ck_accounts_email_lower CHECK (email = lower(email))
);

CREATE TABLE workspaces (
    id         uuid         PRIMARY KEY,
    name       varchar(255) NOT NULL,
    created_at timestamptz  NOT NULL,
    CONSTRAINT uq_workspaces_name UNIQUE (name)
);

CREATE TABLE workspace_members (
    workspace_id uuid        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    account_id   uuid        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role         varchar(16) NOT NULL,
    current      boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, account_id)
);
CREATE INDEX ix_workspace_members_account ON workspace_members (account_id);

-- Console sessions are addressed by the SHA-256 hex of the cookie value; the
-- plaintext session id is never stored.
CREATE TABLE console_sessions (
    id_hash      varchar(64)  PRIMARY KEY,
    account_id   uuid         NOT NULL,
    workspace_id uuid         NULL,
    csrf_token   varchar(128) NOT NULL,
    created_at   timestamptz  NOT NULL,
    expires_at   timestamptz  NOT NULL
);
CREATE INDEX ix_console_sessions_expires ON console_sessions (expires_at);

-- +goose Down
DROP TABLE console_sessions;
DROP TABLE workspace_members;
DROP TABLE workspaces;
DROP TABLE accounts;
