-- Job engine (docs/jobs.md). One table holds every job from enqueue to its final state.

CREATE TABLE ops.jobs (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             text        NOT NULL CHECK (length(kind) BETWEEN 1 AND 200),
    queue            text        NOT NULL DEFAULT 'default' CHECK (length(queue) BETWEEN 1 AND 100),
    -- 1 runs first, 4 last (River's scale); ties go to the earliest scheduled_at, then id.
    priority         smallint    NOT NULL DEFAULT 2 CHECK (priority BETWEEN 1 AND 4),
    args             jsonb       NOT NULL DEFAULT '{}',
    args_version     integer     NOT NULL DEFAULT 1,
    state            text        NOT NULL DEFAULT 'available' CHECK (state IN
                         ('available', 'scheduled', 'running', 'retryable', 'completed', 'discarded', 'cancelled')),
    attempt          integer     NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    max_attempts     integer     NOT NULL DEFAULT 20 CHECK (max_attempts >= 1),
    scheduled_at     timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    attempted_at     timestamptz,
    finalized_at     timestamptz,
    attempted_by     text[]      NOT NULL DEFAULT '{}',
    locked_by        text,
    locked_until     timestamptz,
    errors           jsonb       NOT NULL DEFAULT '[]',
    unique_key       text,
    concurrency_key  text,
    trace_parent     text,
    -- Final states and only they carry finalized_at; only running jobs hold a lease.
    CONSTRAINT jobs_finalized CHECK ((state IN ('completed', 'discarded', 'cancelled')) = (finalized_at IS NOT NULL)),
    CONSTRAINT jobs_lease CHECK ((state = 'running') = (locked_by IS NOT NULL AND locked_until IS NOT NULL))
);

-- The claim: pending jobs of a queue in priority order. Partial, so finished history never slows it down.
CREATE INDEX jobs_fetch ON ops.jobs (queue, priority, scheduled_at, id)
    WHERE state IN ('available', 'scheduled', 'retryable');

-- A duplicate enqueue while a job with the same kind and key is still pending or running returns that job.
CREATE UNIQUE INDEX jobs_unique_key ON ops.jobs (kind, unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('available', 'scheduled', 'running', 'retryable');

-- At most one running job per concurrency key: the database, not the workers, holds the guarantee.
CREATE UNIQUE INDEX jobs_running_concurrency_key ON ops.jobs (concurrency_key)
    WHERE concurrency_key IS NOT NULL AND state = 'running';

-- The rescuer looks for expired leases.
CREATE INDEX jobs_leases ON ops.jobs (locked_until) WHERE state = 'running';

-- Retention prunes completed jobs by age; admin lists filter by state.
CREATE INDEX jobs_finalized_at ON ops.jobs (finalized_at) WHERE state = 'completed';
CREATE INDEX jobs_state_id ON ops.jobs (state, id);
CREATE INDEX jobs_kind_id ON ops.jobs (kind, id);

-- Recurring schedules: declared in code, upserted at worker start, fired at most once per fire time
-- (a compare-and-set on next_fire_at in the transaction that inserts the job).
CREATE TABLE ops.schedules (
    name          text        PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 200),
    cron          text        NOT NULL,
    kind          text        NOT NULL,
    args          jsonb       NOT NULL DEFAULT '{}',
    args_version  integer     NOT NULL DEFAULT 1,
    queue         text        NOT NULL DEFAULT 'default',
    priority      smallint    NOT NULL DEFAULT 2 CHECK (priority BETWEEN 1 AND 4),
    max_attempts  integer     NOT NULL DEFAULT 20 CHECK (max_attempts >= 1),
    paused        boolean     NOT NULL DEFAULT false,
    next_fire_at  timestamptz NOT NULL,
    last_fire_at  timestamptz,
    last_job_id   bigint,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
