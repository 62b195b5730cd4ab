-- Collaborator recommendations: the members' expertise embeddings (once per model and text hash), the tenant's
-- ranking weights moved by feedback, and the feedback log (accepted/dismissed; a logged pair is not shown again).
CREATE TABLE community.expertise_embeddings (
    tenant_id    uuid        NOT NULL REFERENCES core.tenants (id),
    model        text        NOT NULL,
    content_hash text        NOT NULL,   -- SHA-256 (hex) of the UTF-8 expertise text
    vector       real[]      NOT NULL,   -- unit length
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, model, content_hash)
);

CREATE TABLE community.collaborator_weights (
    tenant_id       uuid             PRIMARY KEY REFERENCES core.tenants (id),
    skills          double precision NOT NULL DEFAULT 0.3,
    expertise       double precision NOT NULL DEFAULT 0.3,
    shared_contacts double precision NOT NULL DEFAULT 0.25,
    participation   double precision NOT NULL DEFAULT 0.15,
    updated_at      timestamptz      NOT NULL DEFAULT now()
);

CREATE TABLE community.collaborator_feedback (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id      uuid               NOT NULL REFERENCES core.tenants (id),
    user_id        text               NOT NULL,
    candidate_id   text               NOT NULL,
    outcome        text               NOT NULL CHECK (outcome IN ('accepted', 'dismissed')),
    features       double precision[] NOT NULL,
    weights_before double precision[] NOT NULL,
    weights_after  double precision[] NOT NULL,
    actor          text               NOT NULL,
    algorithm      text               NOT NULL,
    created_at     timestamptz        NOT NULL DEFAULT now()
);
CREATE INDEX collaborator_feedback_user ON community.collaborator_feedback (tenant_id, user_id);
