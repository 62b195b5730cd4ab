-- End-user identity: Platform as an OpenID Connect provider per tenant (docs/identity.md).
-- clients, authorizations, scopes and tokens are OpenIddict's Entity Framework Core stores (IdentityDb maps them
-- here, snake_case, with a tenant_id added to each); users and memberships are the module's own (Npgsql).

CREATE SCHEMA IF NOT EXISTS identity;

CREATE TABLE identity.clients (
    id                        uuid PRIMARY KEY,
    tenant_id                 uuid NOT NULL REFERENCES core.tenants (id),
    application_type          varchar(50),
    client_id                 varchar(100) NOT NULL,
    client_secret             text,
    client_type               varchar(50),
    concurrency_token         varchar(50),
    consent_type              varchar(50),
    display_name              text,
    display_names             text,
    json_web_key_set          text,
    permissions               text,
    post_logout_redirect_uris text,
    properties                text,
    redirect_uris             text,
    requirements              text,
    settings                  text
);
-- Client ids are random and global, so one lookup by id cannot land on another tenant's client even before RLS.
CREATE UNIQUE INDEX clients_client_id ON identity.clients (client_id);
CREATE INDEX clients_tenant ON identity.clients (tenant_id);

CREATE TABLE identity.scopes (
    id                uuid PRIMARY KEY,
    tenant_id         uuid NOT NULL REFERENCES core.tenants (id),
    concurrency_token varchar(50),
    description       text,
    descriptions      text,
    display_name      text,
    display_names     text,
    name              varchar(200),
    properties        text,
    resources         text
);
CREATE UNIQUE INDEX scopes_name ON identity.scopes (tenant_id, name);

CREATE TABLE identity.authorizations (
    id                uuid PRIMARY KEY,
    tenant_id         uuid NOT NULL REFERENCES core.tenants (id),
    application_id    uuid REFERENCES identity.clients (id) ON DELETE CASCADE,
    concurrency_token varchar(50),
    creation_date     timestamptz,
    properties        text,
    scopes            text,
    status            varchar(50),
    subject           varchar(400),
    type              varchar(50)
);
CREATE INDEX authorizations_application_id_status_subject_type ON identity.authorizations (application_id, status, subject, type);
CREATE INDEX authorizations_subject ON identity.authorizations (tenant_id, subject);

CREATE TABLE identity.tokens (
    id                uuid PRIMARY KEY,
    tenant_id         uuid NOT NULL REFERENCES core.tenants (id),
    application_id    uuid REFERENCES identity.clients (id) ON DELETE CASCADE,
    authorization_id  uuid REFERENCES identity.authorizations (id) ON DELETE CASCADE,
    concurrency_token varchar(50),
    creation_date     timestamptz,
    expiration_date   timestamptz,
    payload           text,
    properties        text,
    redemption_date   timestamptz,
    reference_id      varchar(100),
    status            varchar(50),
    subject           varchar(400),
    type              varchar(150)
);
CREATE INDEX tokens_application_id_status_subject_type ON identity.tokens (application_id, status, subject, type);
CREATE INDEX tokens_authorization_id ON identity.tokens (authorization_id);
CREATE UNIQUE INDEX tokens_reference_id ON identity.tokens (reference_id);

-- People who sign in at a tenant's issuer. The id is the token's subject (sub) and the user id every module keys on.
CREATE TABLE identity.users (
    tenant_id        uuid        NOT NULL REFERENCES core.tenants (id),
    id               uuid        NOT NULL,
    email            text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    email_normalized text        NOT NULL,
    password_hash    text,                          -- ASP.NET Core Identity's hasher format; NULL: no password set
    failed_attempts  integer     NOT NULL DEFAULT 0,
    locked_until     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, email_normalized)
);

-- Roles per tenant. company_user is scoped to a company (impact), attendee to a conference (events); the others
-- have no scope (scope_id NULL). A user may hold several.
CREATE TABLE identity.memberships (
    tenant_id  uuid        NOT NULL,
    user_id    uuid        NOT NULL,
    role       text        NOT NULL CHECK (role IN ('member', 'team_lead', 'community_manager', 'compliance_officer', 'ops', 'company_user', 'attendee')),
    scope_id   text        NOT NULL DEFAULT '' CHECK ((role IN ('company_user', 'attendee')) = (scope_id <> '')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, role, scope_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES identity.users (tenant_id, id) ON DELETE CASCADE
);

-- What the sign-in pages show for a tenant: its name (the tenant's own when unset), a colour and a logo.
CREATE TABLE identity.branding (
    tenant_id     uuid PRIMARY KEY REFERENCES core.tenants (id),
    display_name  text CHECK (length(display_name) BETWEEN 1 AND 100),
    primary_color text CHECK (primary_color ~ '^#[0-9a-fA-F]{6}$'),
    logo_url      text CHECK (length(logo_url) <= 2000 AND logo_url ~ '^https://'),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
