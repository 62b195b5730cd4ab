-- Digests: one row per (person, period). The unique key is what makes "exactly one digest per period" hold across
-- worker restarts and concurrent workers: the row and the digest's notification are written in one transaction.
CREATE TABLE ops.notification_digests (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   uuid        NOT NULL,
  user_id     text        NOT NULL,
  frequency   text        NOT NULL CHECK (frequency IN ('daily', 'weekly')),
  period_key  text        NOT NULL,
  items       int         NOT NULL,
  outbox_id   bigint,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, user_id, period_key)
);

-- Row-level security for this table is installed by 0234 (ops.protect_tenant_table is created by 0201).
