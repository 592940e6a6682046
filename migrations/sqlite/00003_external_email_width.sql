-- External-SSO emails may be up to 320 characters (SPEC 3.2, 5). SQLite TEXT
-- has no width, so the first schema stored any length; these triggers give
-- subject_email the same 320-character bound as Postgres's varchar(320), so
-- both dialects accept and refuse the same rows.

-- +goose Up
-- +goose StatementBegin
CREATE TRIGGER ck_oauth_subject_email_width_insert
BEFORE INSERT ON oauth_access_tokens
WHEN length(NEW.subject_email) > 320
BEGIN
    SELECT RAISE(ABORT, 'subject_email longer than 320 characters');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER ck_oauth_subject_email_width_update
BEFORE UPDATE OF subject_email ON oauth_access_tokens
WHEN length(NEW.subject_email) > 320
BEGIN
    SELECT RAISE(ABORT, 'subject_email longer than 320 characters');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER ck_oauth_subject_email_width_update;
DROP TRIGGER ck_oauth_subject_email_width_insert;
