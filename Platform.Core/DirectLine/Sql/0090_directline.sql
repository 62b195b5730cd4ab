-- Direct Line 3.0 compatibility (docs/directline.md).

-- Files uploaded through POST /v3/directline/conversations/{id}/upload. Kept in PostgreSQL (bytea, at most
-- 4 MiB a file, checked by the Api) so every Api replica serves them without shared disk; the id is 256 random
-- bits and doubles as the capability in the attachment's contentUrl.
CREATE TABLE core.directline_uploads (
    id               text        PRIMARY KEY,
    tenant_id        uuid        NOT NULL,
    conversation_id  uuid        NOT NULL REFERENCES core.conversations (id),
    name             text        NOT NULL,
    content_type     text        NOT NULL,
    size_bytes       integer     NOT NULL CHECK (size_bytes BETWEEN 0 AND 4194304),
    content          bytea       NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX directline_uploads_conversation ON core.directline_uploads (tenant_id, conversation_id);

-- Which conversations a Direct Line client has started (POST /conversations answers 201 the first time, then 200).
CREATE TABLE core.directline_conversations (
    conversation_id  uuid        PRIMARY KEY REFERENCES core.conversations (id),
    tenant_id        uuid        NOT NULL,
    started_at       timestamptz NOT NULL DEFAULT now()
);
