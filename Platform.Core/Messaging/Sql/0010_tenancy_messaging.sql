-- Converger: tenants, credentials, channels, conversations, activities (docs/architecture.md, docs/api.md).

CREATE TABLE core.tenants (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    status      text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Tenant API keys: only the SHA-256 of the key is stored; revoked keys stay for audit.
CREATE TABLE core.api_keys (
    id          uuid        PRIMARY KEY,
    tenant_id   uuid        NOT NULL REFERENCES core.tenants (id),
    key_hash    text        NOT NULL UNIQUE,
    prefix      text        NOT NULL,            -- first characters, to recognise a key in lists
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_keys_tenant ON core.api_keys (tenant_id);

CREATE TABLE core.channels (
    id           uuid        PRIMARY KEY,
    tenant_id    uuid        NOT NULL REFERENCES core.tenants (id),
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    status       text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    secret_hash  text        NOT NULL UNIQUE,    -- rotating replaces it: the old secret stops working at once
    allowed_origins text[]   NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id)
);
CREATE INDEX channels_tenant ON core.channels (tenant_id, created_at);

CREATE TABLE core.conversations (
    id          uuid        PRIMARY KEY,
    tenant_id   uuid        NOT NULL,
    channel_id  uuid        NOT NULL,
    status      text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
    last_seq    bigint      NOT NULL DEFAULT 0,  -- the watermark: seq of the newest activity
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    closed_at   timestamptz,
    FOREIGN KEY (tenant_id, channel_id) REFERENCES core.channels (tenant_id, id),
    UNIQUE (tenant_id, id)
);
CREATE INDEX conversations_tenant_channel ON core.conversations (tenant_id, channel_id, created_at DESC);

-- Activities: append-only, seq contiguous per conversation (assigned from conversations.last_seq in the same
-- transaction). The primary key leads with the conversation so replay "seq > watermark" is one index range.
-- Designed for range partitioning by created_at when it grows (the key would then gain created_at).
CREATE TABLE core.activities (
    conversation_id    uuid        NOT NULL,
    seq                bigint      NOT NULL CHECK (seq > 0),
    tenant_id          uuid        NOT NULL,
    id                 text        NOT NULL,     -- URL-safe public id
    type               text        NOT NULL CHECK (type IN ('message', 'event')),  -- typing is published, never stored
    from_id            text        NOT NULL,
    from_name          text,
    from_role          text,
    text               text,
    attachments        jsonb,
    entities           jsonb,
    reply_to_id        text,
    name               text,
    value              json,         -- opaque to the platform: json (not jsonb) keeps key order as posted
    channel_data       json,
    client_activity_id text,
    -- clock_timestamp, not now(): taken after the conversation row lock, so timestamps follow seq order.
    created_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (conversation_id, seq),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES core.conversations (tenant_id, id)
);
CREATE UNIQUE INDEX activities_public_id ON core.activities (id);
CREATE UNIQUE INDEX activities_client_id ON core.activities (conversation_id, client_activity_id)
    WHERE client_activity_id IS NOT NULL;

CREATE TRIGGER activities_append_only BEFORE UPDATE OR DELETE ON core.activities
    FOR EACH ROW EXECUTE FUNCTION ops.reject_mutation();
