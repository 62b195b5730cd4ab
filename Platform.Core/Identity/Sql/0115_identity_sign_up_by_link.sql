-- Signing up without a password: a tenant may let a sign-in link asked for an address without an account create that
-- account when the link is used (docs/identity.md). Off unless the tenant turns it on (docs/decisions.md).
CREATE TABLE identity.sign_up_settings (
    tenant_id    uuid        PRIMARY KEY REFERENCES core.tenants (id),
    link_sign_up boolean     NOT NULL DEFAULT false,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- A sign-up link has a token and the address it was sent to, but no user until it is used. The old rule (a token exactly
-- when there is a user) gives way to the three kinds of row.
DO $$
DECLARE
    old_check text;
BEGIN
    SELECT conname INTO old_check FROM pg_constraint
    WHERE conrelid = 'identity.sign_in_links'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%user_id IS NULL%';
    EXECUTE format('ALTER TABLE identity.sign_in_links DROP CONSTRAINT %I', old_check);
END
$$;
ALTER TABLE identity.sign_in_links
    ADD COLUMN sign_up_email text CHECK (length(sign_up_email) BETWEEN 3 AND 254),
    ADD CONSTRAINT sign_in_links_kind CHECK (
        (user_id IS NOT NULL AND token_hash IS NOT NULL AND sign_up_email IS NULL)      -- a link to an account
        OR (user_id IS NULL AND token_hash IS NOT NULL AND sign_up_email IS NOT NULL)  -- a sign-up link
        OR (user_id IS NULL AND token_hash IS NULL AND sign_up_email IS NULL));        -- a request counted for the limit only
