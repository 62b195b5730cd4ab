-- Bring your own identity: a tenant trusts its existing issuer; Api validates that issuer's JWTs against its JWKS
-- (issuer, audience, signature, lifetime) and maps claims to the user and roles (docs/identity.md).
CREATE TABLE identity.trusted_issuers (
    tenant_id   uuid        NOT NULL REFERENCES core.tenants (id),
    issuer      text        NOT NULL CHECK (length(issuer) BETWEEN 1 AND 2000),
    audience    text        NOT NULL CHECK (length(audience) BETWEEN 1 AND 500),
    jwks_uri    text        NOT NULL CHECK (length(jwks_uri) BETWEEN 1 AND 2000),
    user_claim  text        NOT NULL DEFAULT 'sub' CHECK (length(user_claim) BETWEEN 1 AND 100),
    roles_claim text        CHECK (length(roles_claim) BETWEEN 1 AND 100),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, issuer)
);
-- A presented token names its issuer before its tenant is known: looked up by issuer (and audience) first.
CREATE INDEX trusted_issuers_issuer ON identity.trusted_issuers (issuer, audience);
