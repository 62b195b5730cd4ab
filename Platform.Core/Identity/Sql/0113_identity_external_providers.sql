-- Federation: a tenant's users may sign in with an upstream OpenID provider (Google, Microsoft, any standards-compliant
-- issuer) the tenant configures (docs/identity.md). The client secret is sealed (AES-GCM under a key derived from the
-- master key for this purpose, bound to the provider row), because it must be presented to the upstream again.
CREATE TABLE identity.external_providers (
    tenant_id            uuid        NOT NULL REFERENCES core.tenants (id),
    id                   uuid        NOT NULL,
    name                 text        NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
    display_name         text        NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    issuer               text        NOT NULL CHECK (length(issuer) BETWEEN 1 AND 2000),
    client_id            text        NOT NULL CHECK (length(client_id) BETWEEN 1 AND 500),
    client_secret_sealed bytea,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);

-- Which local user an upstream account (provider + its stable subject) signs in as.
CREATE TABLE identity.external_logins (
    tenant_id   uuid        NOT NULL,
    provider_id uuid        NOT NULL,
    subject     text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    user_id     uuid        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, provider_id, subject),
    FOREIGN KEY (tenant_id, provider_id) REFERENCES identity.external_providers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES identity.users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX external_logins_user ON identity.external_logins (tenant_id, user_id);
