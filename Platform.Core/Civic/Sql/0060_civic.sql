-- Civic meeting digests (CouncilSense): cities and their sources, raw artifacts, meetings, processing runs,
-- append-only published summaries with claims and evidence, reader profiles and the notification outbox.
CREATE SCHEMA IF NOT EXISTS civic;

CREATE TABLE civic.cities (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES core.tenants (id),
    slug          text NOT NULL,
    name          text NOT NULL,
    cron          text NULL,              -- Quartz cron (UTC); null = scanned only on demand
    next_scan_at  timestamptz NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, slug)
);

CREATE TABLE civic.sources (
    id              uuid PRIMARY KEY,
    city_id         uuid NOT NULL REFERENCES civic.cities (id),
    kind            text NOT NULL CHECK (kind IN ('file', 'http')),
    location        text NOT NULL,        -- a folder (file) or a feed URL (http)
    etag            text NULL,
    last_modified   text NULL,
    last_checked_at timestamptz NULL,
    last_success_at timestamptz NULL,
    last_error      text NULL
);
CREATE INDEX sources_city ON civic.sources (city_id);

-- Raw documents, content-addressed: one row per (tenant, SHA-256), whatever meeting or source brought it.
CREATE TABLE civic.artifacts (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL,
    sha256       text NOT NULL,
    media_type   text NOT NULL,
    storage_key  text NOT NULL,
    byte_size    integer NOT NULL,
    text_content text NULL,               -- normalised text; evidence offsets index into it
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, sha256)
);

CREATE TABLE civic.meetings (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL,
    city_id      uuid NOT NULL REFERENCES civic.cities (id),
    meeting_uid  text NOT NULL,
    title        text NOT NULL,
    meeting_date date NULL,
    source_id    uuid NULL REFERENCES civic.sources (id),
    artifact_id  uuid NOT NULL REFERENCES civic.artifacts (id),
    status       text NOT NULL CHECK (status IN ('ingested', 'processed', 'limited_confidence', 'manual_review_needed', 'failed')),
    published_at timestamptz NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (city_id, meeting_uid)
);
CREATE INDEX meetings_city_date ON civic.meetings (city_id, meeting_date DESC, id DESC);

CREATE TABLE civic.processing_runs (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL,
    city_id      uuid NOT NULL REFERENCES civic.cities (id),
    meeting_id   uuid NULL REFERENCES civic.meetings (id),  -- null: a city-level scan failure
    artifact_id  uuid NULL REFERENCES civic.artifacts (id),
    trigger      text NOT NULL,           -- scan | rerun
    status       text NOT NULL CHECK (status IN ('running', 'published', 'limited_confidence', 'manual_review_needed', 'failed')),
    stages       jsonb NOT NULL DEFAULT '{}',
    extraction   jsonb NULL,
    draft        jsonb NULL,
    gate         jsonb NULL,
    error        text NULL,
    trace_id     text NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz NULL
);
-- One processing run per meeting at a time.
CREATE UNIQUE INDEX processing_runs_one_running ON civic.processing_runs (meeting_id) WHERE status = 'running';
CREATE INDEX processing_runs_city ON civic.processing_runs (city_id, created_at DESC);

CREATE TABLE civic.summary_versions (
    id               uuid PRIMARY KEY,
    meeting_id       uuid NOT NULL REFERENCES civic.meetings (id),
    run_id           uuid NOT NULL REFERENCES civic.processing_runs (id),
    version          integer NOT NULL,
    is_current       boolean NOT NULL,
    short_summary    text NOT NULL,
    key_decisions    jsonb NOT NULL,
    notable_topics   jsonb NOT NULL,
    confidence_label text NOT NULL CHECK (confidence_label IN ('pass', 'limited_confidence')),
    evidence_coverage double precision NOT NULL,
    summarizer       text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (meeting_id, version)
);
-- Exactly one current summary per meeting.
CREATE UNIQUE INDEX summary_versions_one_current ON civic.summary_versions (meeting_id) WHERE is_current;

CREATE TABLE civic.claims (
    id                 uuid PRIMARY KEY,
    summary_version_id uuid NOT NULL REFERENCES civic.summary_versions (id),
    ordinal            integer NOT NULL,
    kind               text NOT NULL,
    text               text NOT NULL
);
CREATE INDEX claims_version ON civic.claims (summary_version_id, ordinal);

CREATE TABLE civic.claim_evidence (
    id           uuid PRIMARY KEY,
    claim_id     uuid NOT NULL REFERENCES civic.claims (id),
    artifact_id  uuid NOT NULL REFERENCES civic.artifacts (id),
    section_ref  text NOT NULL,
    start_offset integer NOT NULL CHECK (start_offset >= 0),
    end_offset   integer NOT NULL CHECK (end_offset > start_offset),
    excerpt      text NOT NULL
);
CREATE INDEX claim_evidence_claim ON civic.claim_evidence (claim_id);

-- Published provenance is append-only: only the is_current flag of a summary version may change.
CREATE FUNCTION civic.append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'summary_versions'
       AND (to_jsonb(NEW) - 'is_current') = (to_jsonb(OLD) - 'is_current') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'civic.% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER summary_versions_append_only BEFORE UPDATE OR DELETE ON civic.summary_versions
    FOR EACH ROW EXECUTE FUNCTION civic.append_only();
CREATE TRIGGER claims_append_only BEFORE UPDATE OR DELETE ON civic.claims
    FOR EACH ROW EXECUTE FUNCTION civic.append_only();
CREATE TRIGGER claim_evidence_append_only BEFORE UPDATE OR DELETE ON civic.claim_evidence
    FOR EACH ROW EXECUTE FUNCTION civic.append_only();

CREATE TABLE civic.profiles (
    tenant_id             uuid NOT NULL,
    user_id               text NOT NULL,
    display_name          text NULL,
    email                 text NULL,
    home_city_id          uuid NULL REFERENCES civic.cities (id),
    notifications_enabled boolean NOT NULL DEFAULT true,
    pause_until           timestamptz NULL,
    deleted_at            timestamptz NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX profiles_home_city ON civic.profiles (home_city_id) WHERE deleted_at IS NULL;
