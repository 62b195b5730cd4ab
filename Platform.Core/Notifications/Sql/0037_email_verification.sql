-- Address verification: a person's address receives mail other than safety alerts only after they confirm it through
-- a one-time link. email_verified_at is when the current address was confirmed (NULL: not yet); setting another
-- address clears it.
ALTER TABLE ops.notification_profiles ADD COLUMN email_verified_at timestamptz;

-- Addresses set before verification existed have been receiving mail (and a dead one has been disabled by its
-- bounces): they count as confirmed, so nobody silently stops getting mail with this upgrade (docs/decisions.md).
-- On an upgraded database the table is already behind row-level security: the update runs in the system scope.
SELECT set_config('platform.system', 'migration 0037: addresses set before verification count as confirmed', true);
UPDATE ops.notification_profiles SET email_verified_at = updated_at WHERE email IS NOT NULL;
SELECT set_config('platform.system', '', true);

-- One row per confirmation link sent. Only the SHA-256 of the link's token is kept; the token is derived (an HMAC
-- under the key Worker and Api share) when the email is written, so neither this table nor the notification's
-- payload holds it. A link confirms once (confirmed_at), before expires_at, and only the address it was sent to.
CREATE TABLE ops.email_verifications (
  id            uuid        PRIMARY KEY,
  tenant_id     uuid        NOT NULL,
  user_id       text        NOT NULL CHECK (length(user_id) BETWEEN 1 AND 200),
  email         text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  token_hash    bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  expires_at    timestamptz NOT NULL,
  confirmed_at  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_verifications_person ON ops.email_verifications (tenant_id, user_id, created_at DESC);

-- Row-level security for this table is installed by 0237 (ops.protect_tenant_table is created by 0201).
