-- oauth_access_tokens (SPEC 3.2), SQLite flavour. Only the SHA-256 hex of a
-- token is stored; revoking or hard-expiring a row nulls it.
--
-- Times are TEXT in one fixed-width UTC form, 'YYYY-MM-DDTHH:MM:SS.ffffffZ'
-- (27 characters, always six fractional digits), written by the adapter. A
-- fixed width makes text order equal time order, so <, <= and ORDER BY on
-- these columns compare instants correctly. Ids are lower-case canonical UUIDs.

-- +goose Up
CREATE TABLE oauth_access_tokens (
    id             TEXT PRIMARY KEY,
    subject_email  TEXT NOT NULL,
    subject_issuer TEXT NOT NULL,
    account_id     TEXT NULL,
    client_id      TEXT NOT NULL,
    device_label   TEXT NOT NULL,
    prefix         TEXT NOT NULL,
    token_hash     TEXT NULL,
    created_at     TEXT NOT NULL CHECK (length(created_at) = 27 AND created_at LIKE '%Z'),
    last_used_at   TEXT NULL CHECK (last_used_at IS NULL OR (length(last_used_at) = 27 AND last_used_at LIKE '%Z')),
    expires_at     TEXT NOT NULL CHECK (length(expires_at) = 27 AND expires_at LIKE '%Z'),
    revoked_at     TEXT NULL CHECK (revoked_at IS NULL OR (length(revoked_at) = 27 AND revoked_at LIKE '%Z')),
    CONSTRAINT uq_oauth_access_tokens_token_hash UNIQUE (token_hash),
    -- The subject binding of SPEC 3.3, restated so no code path can store a
    -- token that speaks for an account and an external identity at once.
    CONSTRAINT ck_oauth_subject_binding CHECK (
        (account_id IS NOT NULL AND subject_issuer = 'dify:account')
        OR (account_id IS NULL AND trim(subject_issuer) <> '' AND subject_issuer <> 'dify:account')
    )
) STRICT;

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
