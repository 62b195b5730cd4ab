-- Notifications: outbox, per-channel deliveries, append-only attempts, preferences,
-- Web Push subscriptions and tenant webhook endpoints. All tenant-owned rows carry tenant_id.

-- One row per logical notification. dedupe_key = sha256(user_id|subject_id|notification_type):
-- the unique index makes a repeated or concurrent producer a no-op.
CREATE TABLE ops.notification_outbox (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id         uuid        NOT NULL,
  user_id           text        NOT NULL CHECK (length(user_id) BETWEEN 1 AND 200),
  subject_id        text        NOT NULL CHECK (length(subject_id) BETWEEN 1 AND 200),
  notification_type text        NOT NULL CHECK (notification_type ~ '^[a-z0-9][a-z0-9._-]{0,99}$'),
  payload           jsonb       NOT NULL,
  channels          text[]      NOT NULL CHECK (channels <@ ARRAY['in_app','web_push','webhook']::text[] AND cardinality(channels) > 0),
  dedupe_key        bytea       NOT NULL CHECK (length(dedupe_key) = 32),
  created_at        timestamptz NOT NULL DEFAULT now(),
  read_at           timestamptz
);
CREATE UNIQUE INDEX notification_outbox_dedupe ON ops.notification_outbox (tenant_id, dedupe_key);
-- The inbox: newest first per user; unread replay on stream connect.
CREATE INDEX notification_outbox_inbox ON ops.notification_outbox (tenant_id, user_id, id DESC);

-- One row per (notification, channel, target): target is '' for in-app, the subscription id for Web Push,
-- the endpoint id for webhooks. pending → sent | failed | suppressed (reason says why).
CREATE TABLE ops.notification_deliveries (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   uuid        NOT NULL,
  outbox_id   bigint      NOT NULL REFERENCES ops.notification_outbox (id) ON DELETE CASCADE,
  channel     text        NOT NULL CHECK (channel IN ('in_app','web_push','webhook')),
  target      text        NOT NULL DEFAULT '',
  state       text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','sent','failed','suppressed')),
  reason      text,
  attempts    int         NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  sent_at     timestamptz,
  UNIQUE (outbox_id, channel, target)
);
CREATE INDEX notification_deliveries_target ON ops.notification_deliveries (tenant_id, channel, target, id DESC);

-- Every attempt, append-only: the delivery log.
CREATE TABLE ops.notification_attempts (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    uuid        NOT NULL,
  delivery_id  bigint      NOT NULL REFERENCES ops.notification_deliveries (id) ON DELETE CASCADE,
  attempt      int         NOT NULL,
  outcome      text        NOT NULL CHECK (outcome IN ('sent','retry','failed','suppressed')),
  status_code  int,
  error        text,
  latency_ms   double precision NOT NULL,
  at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_attempts_delivery ON ops.notification_attempts (delivery_id, id);
CREATE TRIGGER notification_attempts_append_only BEFORE UPDATE OR DELETE ON ops.notification_attempts
  FOR EACH ROW EXECUTE FUNCTION ops.reject_mutation();

CREATE TABLE ops.notification_preferences (
  tenant_id       uuid        NOT NULL,
  user_id         text        NOT NULL,
  enabled         boolean     NOT NULL DEFAULT true,
  pause_until     timestamptz,
  opted_out_types text[]      NOT NULL DEFAULT '{}',
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id)
);

CREATE TABLE ops.push_subscriptions (
  id          uuid        PRIMARY KEY,
  tenant_id   uuid        NOT NULL,
  user_id     text        NOT NULL,
  endpoint    text        NOT NULL,
  p256dh      text        NOT NULL,
  auth        text        NOT NULL,
  status      text        NOT NULL DEFAULT 'active' CHECK (status IN ('active','suppressed')),
  reason      text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, user_id, endpoint)
);

-- The signing secret is kept in clear (it signs every request); it is shown once on creation.
CREATE TABLE ops.webhook_endpoints (
  id             uuid        PRIMARY KEY,
  tenant_id      uuid        NOT NULL,
  url            text        NOT NULL,
  secret         text        NOT NULL,
  event_types    text[]      NOT NULL DEFAULT '{}',
  status         text        NOT NULL DEFAULT 'active' CHECK (status IN ('active','disabled','deleted')),
  failure_streak int         NOT NULL DEFAULT 0,
  disabled_at    timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_tenant ON ops.webhook_endpoints (tenant_id) WHERE status <> 'deleted';
