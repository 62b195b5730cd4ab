-- Retention: how long each tenant keeps each class of data (absent row = the class's default, set in code), and the
-- ledger of what the retention job removed. Both live in governance: retention is a privacy decision, not operations.
CREATE TABLE governance.retention_settings (
    tenant_id   uuid        NOT NULL REFERENCES core.tenants (id),
    data_class  text        NOT NULL CHECK (data_class ~ '^[a-z][a-z_]{0,39}$'),
    keep_days   integer     NOT NULL CHECK (keep_days BETWEEN 1 AND 36500),
    updated_by  text        NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, data_class)
);

-- One row per (tenant, class) run that removed or anonymised something. complete = false: the run stopped at its
-- batch budget and the next run continues where it stopped.
CREATE TABLE governance.retention_runs (
    id            uuid        PRIMARY KEY,
    tenant_id     uuid        NOT NULL REFERENCES core.tenants (id),
    data_class    text        NOT NULL,
    action        text        NOT NULL CHECK (action IN ('deleted', 'anonymised')),
    keep_days     integer     NOT NULL,
    horizon       timestamptz NOT NULL,
    rows_affected bigint      NOT NULL CHECK (rows_affected >= 0),
    batches       integer     NOT NULL,
    complete      boolean     NOT NULL,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz NOT NULL
);
CREATE INDEX retention_runs_tenant ON governance.retention_runs (tenant_id, started_at DESC, id DESC);
CREATE INDEX retention_runs_recent ON governance.retention_runs (started_at DESC, id DESC);

-- The purge reads the oldest rows of one tenant in batches: without these it would scan the table every batch.
CREATE INDEX activities_tenant_created ON core.activities (tenant_id, created_at);
CREATE INDEX notification_outbox_tenant_created ON ops.notification_outbox (tenant_id, created_at);
