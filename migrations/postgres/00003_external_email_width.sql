-- External-SSO emails may be up to 320 characters (SPEC 3.2, 5): widen
-- subject_email from the first schema's 255. Widening a varchar is a
-- catalog-only change in Postgres (no table rewrite, indexes kept).

-- +goose Up
ALTER TABLE oauth_access_tokens ALTER COLUMN subject_email TYPE varchar(320);

-- +goose Down
-- Fails, as it should, while a row holds an email longer than 255 characters.
ALTER TABLE oauth_access_tokens ALTER COLUMN subject_email TYPE varchar(255);
