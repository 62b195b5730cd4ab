-- Social impact: program data, outcome scores with evidence, metrics, privacy and safety.
-- PII (names, emails, free text) is stored only as AES-GCM ciphertext under a per-person data key
-- (impact.person_keys); destroying that key is the erasure (crypto-shredding).
CREATE SCHEMA IF NOT EXISTS impact;
CREATE SCHEMA IF NOT EXISTS governance;

CREATE TABLE impact.companies (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES core.tenants (id),
    name        text NOT NULL,
    external_id text,
    sroi_inputs jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, external_id)
);
CREATE INDEX ON impact.companies (tenant_id, created_at);

-- One row per real person; connectors' ids map to it through impact.external_ids.
CREATE TABLE impact.people (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES core.tenants (id),
    company_id   uuid NOT NULL REFERENCES impact.companies (id),
    role         text NOT NULL CHECK (role IN ('participant', 'volunteer')),
    name_enc     bytea,
    email_enc    bytea,
    -- HMAC of the normalised e-mail: joins a person across connectors without storing the address in clear.
    email_index  bytea,
    journey      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    erased_at    timestamptz
);
CREATE UNIQUE INDEX people_email_index ON impact.people (tenant_id, company_id, email_index) WHERE email_index IS NOT NULL;
CREATE INDEX ON impact.people (company_id, role);

-- Data keys wrapped by the master key. wrapped_key NULL = destroyed: every ciphertext under it is unreadable.
CREATE TABLE impact.person_keys (
    person_id    uuid PRIMARY KEY REFERENCES impact.people (id),
    tenant_id    uuid NOT NULL,
    wrapped_key  bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    destroyed_at timestamptz,
    CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL))
);

CREATE TABLE impact.external_ids (
    tenant_id   uuid NOT NULL,
    source      text NOT NULL,
    external_id text NOT NULL,
    person_id   uuid NOT NULL REFERENCES impact.people (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, source, external_id)
);
CREATE INDEX ON impact.external_ids (person_id);

CREATE TABLE impact.enrollments (
    tenant_id   uuid NOT NULL,
    person_id   uuid NOT NULL REFERENCES impact.people (id),
    program     text NOT NULL CHECK (program IN ('buddy', 'language', 'upskilling', 'mentorship')),
    enrolled_at timestamptz NOT NULL,
    PRIMARY KEY (person_id, program)
);

CREATE TABLE impact.sessions (
    id             uuid PRIMARY KEY,
    tenant_id      uuid NOT NULL,
    company_id     uuid NOT NULL REFERENCES impact.companies (id),
    source         text NOT NULL,
    external_id    text NOT NULL,
    program        text NOT NULL CHECK (program IN ('buddy', 'language', 'upskilling', 'mentorship')),
    participant_id uuid NOT NULL REFERENCES impact.people (id),
    volunteer_id   uuid REFERENCES impact.people (id),
    occurred_at    timestamptz NOT NULL,
    minutes        integer NOT NULL CHECK (minutes BETWEEN 0 AND 1440),
    UNIQUE (tenant_id, source, external_id)
);
CREATE INDEX ON impact.sessions (company_id, occurred_at);
CREATE INDEX ON impact.sessions (participant_id);
CREATE INDEX ON impact.sessions (volunteer_id);

-- Check-in notes and feedback: the texts that are screened and scored.
CREATE TABLE impact.texts (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL,
    company_id    uuid NOT NULL REFERENCES impact.companies (id),
    source        text NOT NULL,
    external_id   text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('checkin', 'feedback')),
    person_id     uuid NOT NULL REFERENCES impact.people (id),
    about_id      uuid REFERENCES impact.people (id),
    occurred_at   timestamptz NOT NULL,
    mood          smallint CHECK (mood BETWEEN 1 AND 5),
    rating        numeric(4, 3) CHECK (rating BETWEEN 0 AND 1),
    body_enc      bytea,
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'flagged', 'scored', 'excluded', 'erased')),
    UNIQUE (tenant_id, source, external_id)
);
CREATE INDEX ON impact.texts (company_id, occurred_at);
CREATE INDEX ON impact.texts (person_id);
CREATE INDEX ON impact.texts (about_id) WHERE about_id IS NOT NULL;

CREATE TABLE impact.course_progress (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL,
    company_id    uuid NOT NULL REFERENCES impact.companies (id),
    source        text NOT NULL,
    external_id   text NOT NULL,
    person_id     uuid NOT NULL REFERENCES impact.people (id),
    course        text NOT NULL,
    progress      numeric(4, 3) NOT NULL CHECK (progress BETWEEN 0 AND 1),
    completed_at  timestamptz,
    credential    text,
    updated_at    timestamptz NOT NULL,
    UNIQUE (tenant_id, source, external_id)
);
CREATE INDEX ON impact.course_progress (company_id, completed_at);

CREATE TABLE impact.outcome_scores (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL,
    company_id    uuid NOT NULL,
    text_id       uuid NOT NULL REFERENCES impact.texts (id),
    person_id     uuid NOT NULL REFERENCES impact.people (id),
    text_type     text NOT NULL,
    dimension     text NOT NULL CHECK (dimension IN ('confidence', 'belonging', 'lang_level_proxy', 'job_readiness', 'well_being')),
    score         numeric(4, 3) CHECK (score BETWEEN 0 AND 1),  -- NULL: the dimension abstained (no evidence)
    confidence    numeric(4, 3) NOT NULL,
    model_version text NOT NULL,
    occurred_at   timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (text_id, dimension, model_version)
);
CREATE INDEX ON impact.outcome_scores (company_id, occurred_at);
CREATE INDEX ON impact.outcome_scores (person_id);

-- The sentence is PII (encrypted under the person's key); its SHA-256 proves which text it was.
CREATE TABLE impact.evidence_snippets (
    id               uuid PRIMARY KEY,
    tenant_id        uuid NOT NULL,
    outcome_score_id uuid NOT NULL REFERENCES impact.outcome_scores (id) ON DELETE CASCADE,
    snippet_enc      bytea,
    snippet_sha256   text,
    start_offset     integer NOT NULL,
    length           integer NOT NULL,
    cues             text[] NOT NULL,
    contribution     double precision NOT NULL
);
CREATE INDEX ON impact.evidence_snippets (outcome_score_id);

CREATE TABLE impact.metrics_company_period (
    tenant_id              uuid NOT NULL,
    company_id             uuid NOT NULL REFERENCES impact.companies (id),
    period_start           date NOT NULL,
    period_end             date NOT NULL,
    participants_count     integer NOT NULL,
    volunteers_count       integer NOT NULL,
    sessions_count         integer NOT NULL,
    avg_integration_score  numeric(4, 3),
    avg_language_level     numeric(4, 3),
    avg_job_readiness      numeric(4, 3),
    computed_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (company_id, period_start)
);

CREATE TABLE impact.imports (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL,
    company_id  uuid NOT NULL REFERENCES impact.companies (id),
    kind        text NOT NULL,
    file_sha256 text NOT NULL,
    report      jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, company_id, kind, file_sha256)
);

-- Webhook secrets, wrapped by the master key (HMAC verification needs the secret itself, not a hash).
CREATE TABLE impact.webhook_sources (
    tenant_id   uuid NOT NULL REFERENCES core.tenants (id),
    source      text NOT NULL,
    company_id  uuid NOT NULL REFERENCES impact.companies (id),
    secret_enc  bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, source)
);

CREATE TABLE impact.domain_events (
    tenant_id      uuid NOT NULL,
    event_id       text NOT NULL,
    source         text NOT NULL,
    company_id     uuid NOT NULL,
    type           text NOT NULL,
    version        text NOT NULL,
    envelope       jsonb NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    processed_at   timestamptz,
    PRIMARY KEY (tenant_id, event_id)
);

CREATE TABLE impact.webhook_rejections (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    uuid,
    source       text NOT NULL,
    reason       text NOT NULL,
    remote_ip    text,
    at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE impact.safety_flags (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL,
    text_id      uuid NOT NULL REFERENCES impact.texts (id),
    categories   text[] NOT NULL,
    signals      text[] NOT NULL,
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'cleared', 'confirmed')),
    review_note  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    reviewed_at  timestamptz,
    UNIQUE (text_id)
);
CREATE INDEX ON impact.safety_flags (tenant_id, status, created_at);

-- Export and erasure requests: their own audit trail (who asked, when, what happened).
CREATE TABLE impact.privacy_requests (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL,
    subject_id   uuid NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('export', 'delete')),
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'failed')),
    requested_by text NOT NULL,
    result       jsonb,
    bundle_enc   bytea,
    requested_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz
);
CREATE INDEX ON impact.privacy_requests (tenant_id, subject_id);

CREATE TABLE IF NOT EXISTS governance.pii_access_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   uuid NOT NULL,
    subject_id  uuid NOT NULL,
    field       text NOT NULL,
    purpose     text NOT NULL,
    actor       text NOT NULL,
    outcome     text NOT NULL CHECK (outcome IN ('read', 'unreadable', 'erased', 'exported')),
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS pii_access_log_subject ON governance.pii_access_log (tenant_id, subject_id, at);

-- The access log is evidence: append-only.
CREATE OR REPLACE FUNCTION governance.pii_access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'governance.pii_access_log is append-only';
END $$;
CREATE TRIGGER pii_access_log_append_only BEFORE UPDATE OR DELETE ON governance.pii_access_log
    FOR EACH ROW EXECUTE FUNCTION governance.pii_access_log_append_only();
