-- Export and erasure requests about a person known by a user id (community member, conference attendee, civic
-- resident): the audit trail of who asked what about whom and when, and a completed export's bundle until it expires.
CREATE TABLE governance.subject_requests (
    id            uuid        PRIMARY KEY,
    tenant_id     uuid        NOT NULL REFERENCES core.tenants (id),
    module        text        NOT NULL CHECK (module IN ('community', 'events', 'civic')),
    subject_id    text        NOT NULL CHECK (length(subject_id) BETWEEN 1 AND 200),
    kind          text        NOT NULL CHECK (kind IN ('export', 'delete')),
    status        text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed')),
    requested_by  text        NOT NULL,
    result        jsonb       NULL,
    bundle        jsonb       NULL,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz NULL
);
CREATE INDEX subject_requests_subject ON governance.subject_requests (tenant_id, subject_id, requested_at);
CREATE INDEX subject_requests_bundles ON governance.subject_requests (tenant_id, completed_at) WHERE bundle IS NOT NULL;
