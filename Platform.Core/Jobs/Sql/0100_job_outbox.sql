-- Jobs run on Hangfire (schema "hangfire", created by Hangfire.PostgreSql). Our own engine's tables go; what stays is
-- the transactional outbox: a domain transaction writes a job request here, and the Worker's relay hands committed
-- requests to Hangfire (docs/jobs.md).

DROP TABLE IF EXISTS ops.jobs;
DROP TABLE IF EXISTS ops.schedules;

CREATE TABLE ops.job_requests (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             text        NOT NULL CHECK (length(kind) BETWEEN 1 AND 200),
    queue            text        NOT NULL CHECK (queue ~ '^[a-z0-9_-]{1,50}$'),
    args             jsonb       NOT NULL DEFAULT '{}',
    args_version     integer     NOT NULL DEFAULT 1,
    max_attempts     integer     NOT NULL CHECK (max_attempts >= 1),
    run_at           timestamptz,
    unique_key       text,
    concurrency_key  text,
    trace_parent     text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- Set by the relay when Hangfire has the job; the row then maps our job id to Hangfire's.
    hangfire_job_id  text,
    handed_over_at   timestamptz,
    -- Set when the Hangfire job ends (succeeded, failed for good, deleted): the unique key is free again.
    released_at      timestamptz,
    CONSTRAINT job_requests_handover CHECK ((hangfire_job_id IS NULL) = (handed_over_at IS NULL))
);

-- The relay's backlog, oldest first. Partial, so handed-over history never slows it down.
CREATE INDEX job_requests_pending ON ops.job_requests (id) WHERE hangfire_job_id IS NULL;

-- One live job per kind and unique key: a duplicate enqueue returns the live one.
CREATE UNIQUE INDEX job_requests_unique_key ON ops.job_requests (kind, unique_key)
    WHERE unique_key IS NOT NULL AND released_at IS NULL;

CREATE INDEX job_requests_hangfire_job_id ON ops.job_requests (hangfire_job_id) WHERE hangfire_job_id IS NOT NULL;
CREATE INDEX job_requests_created_at ON ops.job_requests (created_at);

-- What Hangfire does not keep for a recurring schedule: an operator's pause (while paused_at is set its fires are
-- skipped) and the job of its latest fire (a fire is skipped while that job has not ended).
CREATE TABLE ops.schedule_controls (
    name         text        PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 200),
    paused_at    timestamptz,
    last_job_id  text
);
