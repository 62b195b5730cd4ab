-- Governance: consent per user and purpose, approvals, and the provenance ledger.
-- General on purpose: Convener writes here today, other modules (TEEI, CouncilSense) reuse it.

-- One row per (tenant, user, purpose); absence means "not granted" (opt-in, privacy by default).
CREATE TABLE governance.consents (
    tenant_id  uuid        NOT NULL REFERENCES core.tenants (id),
    user_id    text        NOT NULL,
    purpose    text        NOT NULL CHECK (purpose IN ('recognition', 'pulse', 'recommendations', 'share_profile')),
    granted    boolean     NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, purpose)
);

CREATE TABLE governance.approvals (
    id              uuid        PRIMARY KEY,
    tenant_id       uuid        NOT NULL REFERENCES core.tenants (id),
    kind            text        NOT NULL CHECK (kind IN ('profile_share', 'nudge', 'recognition_publish')),
    subject_user_id text        NOT NULL,
    requested_by    text        NOT NULL,
    payload         jsonb       NOT NULL DEFAULT '{}',
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied')),
    decided_by      text,
    decided_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX approvals_subject ON governance.approvals (tenant_id, subject_user_id, created_at);

-- Append-only, hash-chained per tenant: hash = SHA-256(prev_hash || canonical(row)). seq is gapless per
-- tenant (taken under a per-tenant advisory lock), so a deleted row also breaks the chain.
-- details is json (not jsonb) so the bytes hashed are the bytes stored.
CREATE TABLE governance.provenance_events (
    tenant_id   uuid        NOT NULL REFERENCES core.tenants (id),
    seq         bigint      NOT NULL CHECK (seq > 0),
    id          uuid        NOT NULL UNIQUE,
    action      text        NOT NULL,
    algorithm   text,
    version     text,
    subject_id  text,
    actor       text        NOT NULL,
    details     json        NOT NULL,
    computed_at timestamptz NOT NULL,
    prev_hash   text        NOT NULL,
    hash        text        NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX provenance_subject ON governance.provenance_events (tenant_id, subject_id, seq);
CREATE INDEX provenance_action ON governance.provenance_events (tenant_id, action, seq);

CREATE TRIGGER provenance_append_only BEFORE UPDATE OR DELETE ON governance.provenance_events
    FOR EACH ROW EXECUTE FUNCTION ops.reject_mutation();
