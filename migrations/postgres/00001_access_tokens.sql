-- oauth_access_tokens (SPEC 3.2): one row per issued bearer token. Only the
-- SHA-256 hex of a token is stored; revoking or hard-expiring a row nulls it.

-- +goose Up
CREATE TABLE oauth_access_tokens (
    id             uuid         PRIMARY KEY,
    subject_email  varchar(255) NOT NULL,
    subject_issuer varchar(255) NOT NULL,
    account_id     uuid         NULL,
    client_id      varchar(64)  NOT NULL,
    device_label   varchar(255) NOT NULL,
    prefix         varchar(8)   NOT NULL,
    token_hash     varchar(64)  NULL,
    created_at     timestamptz  NOT NULL,
    last_used_at   timestamptz  NULL,
    expires_at     timestamptz  NOT NULL,
    revoked_at     timestamptz  NULL,
    CONSTRAINT uq_oauth_access_tokens_token_hash UNIQUE (token_hash),
    -- The subject binding of SPEC 3.3, restated so no code path can store a
    -- token that speaks for an account and an external identity at once.
    CONSTRAINT ck_oauth_subject_binding CHECK (
        (account_id IS NOT NULL AND subject_issuer = 'dify:account')
        OR (account_id IS NULL AND btrim(subject_issuer) <> '' AND subject_issuer <> 'dify:account')
    )
);

-- At most one live row per (subject, client, device): the arbiter of the
-- mint upsert (INSERT ... ON CONFLICT (...) WHERE revoked_at IS NULL).
CREATE UNIQUE INDEX uq_oauth_active_per_device
    ON oauth_access_tokens (subject_email, subject_issuer, client_id, device_label)
    WHERE revoked_at IS NULL;

-- Lookup indexes of SPEC 3.2 (token_hash is also unique through the constraint above).
CREATE INDEX ix_oauth_token_hash_live ON oauth_access_tokens (token_hash) WHERE revoked_at IS NULL;
CREATE INDEX ix_oauth_account_live ON oauth_access_tokens (account_id) WHERE revoked_at IS NULL;
CREATE INDEX ix_oauth_subject_client_live ON oauth_access_tokens (subject_email, client_id) WHERE revoked_at IS NULL;

-- The pruner's two predicates (SPEC 3.6).
CREATE INDEX ix_oauth_revoked_at ON oauth_access_tokens (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX ix_oauth_expires_live ON oauth_access_tokens (expires_at) WHERE revoked_at IS NULL;

-- +goose Down
DROP TABLE oauth_access_tokens;
