-- Passwordless sign-in: a one-time link e-mailed to the account's address (docs/identity.md). Only a SHA-256 hash of
-- the link's token is kept; a row without a hash records a request for an address with no account, so the per-address
-- rate limit answers the same whether or not the address is registered.
CREATE TABLE identity.sign_in_links (
    tenant_id        uuid        NOT NULL REFERENCES core.tenants (id),
    id               uuid        NOT NULL,
    email_normalized text        NOT NULL,
    user_id          uuid,
    token_hash       bytea       CHECK (octet_length(token_hash) = 32),
    return_url       text        NOT NULL CHECK (length(return_url) <= 4096),
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    used_at          timestamptz,
    PRIMARY KEY (tenant_id, id),
    CHECK ((user_id IS NULL) = (token_hash IS NULL)),
    FOREIGN KEY (tenant_id, user_id) REFERENCES identity.users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX sign_in_links_token ON identity.sign_in_links (tenant_id, token_hash) WHERE token_hash IS NOT NULL;
CREATE INDEX sign_in_links_requests ON identity.sign_in_links (tenant_id, email_normalized, created_at);
