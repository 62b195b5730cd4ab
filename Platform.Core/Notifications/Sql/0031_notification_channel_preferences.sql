-- Email becomes a channel, and each person chooses per notification type and channel (in_app, web_push, email,
-- webhook), over defaults per tenant. A type of '*' stands for every type. Resolution at send time:
-- the user's (type, channel), the user's ('*', channel), the tenant's (type, channel), the tenant's ('*', channel), on.

ALTER TABLE ops.notification_outbox DROP CONSTRAINT notification_outbox_channels_check;
ALTER TABLE ops.notification_outbox ADD CONSTRAINT notification_outbox_channels_check
  CHECK (channels <@ ARRAY['in_app','web_push','webhook','email']::text[] AND cardinality(channels) > 0);
ALTER TABLE ops.notification_deliveries DROP CONSTRAINT notification_deliveries_channel_check;
ALTER TABLE ops.notification_deliveries ADD CONSTRAINT notification_deliveries_channel_check
  CHECK (channel IN ('in_app','web_push','webhook','email'));

CREATE TABLE ops.notification_channel_preferences (
  tenant_id         uuid        NOT NULL,
  user_id           text        NOT NULL CHECK (length(user_id) BETWEEN 1 AND 200),
  notification_type text        NOT NULL CHECK (notification_type = '*' OR notification_type ~ '^[a-z0-9][a-z0-9._-]{0,99}$'),
  channel           text        NOT NULL CHECK (channel IN ('in_app','web_push','webhook','email')),
  enabled           boolean     NOT NULL,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id, notification_type, channel)
);

CREATE TABLE ops.notification_channel_defaults (
  tenant_id         uuid        NOT NULL,
  notification_type text        NOT NULL CHECK (notification_type = '*' OR notification_type ~ '^[a-z0-9][a-z0-9._-]{0,99}$'),
  channel           text        NOT NULL CHECK (channel IN ('in_app','web_push','webhook','email')),
  enabled           boolean     NOT NULL,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, notification_type, channel)
);

-- Row-level security for these tables is installed by 0231 (ops.protect_tenant_table is created by 0201, which a
-- fresh database applies after this file).
