-- Embedding similarity in matchmaking: a fourth matcher weight, moved by feedback like the other three, and the
-- attendees' profile-text embeddings stored once per (model, text hash) so a recompiled index reuses them.
ALTER TABLE events.conferences ADD COLUMN weight_semantic double precision NOT NULL DEFAULT 0.25;

CREATE TABLE events.profile_embeddings (
    tenant_id    uuid        NOT NULL REFERENCES core.tenants (id),
    model        text        NOT NULL,
    content_hash text        NOT NULL,   -- SHA-256 (hex) of the UTF-8 profile text
    vector       real[]      NOT NULL,   -- unit length
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, model, content_hash)
);
