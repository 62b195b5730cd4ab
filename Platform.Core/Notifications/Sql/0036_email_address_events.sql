-- Email bounces and address checks: every change of whether a person's address receives mail, and why, append-only.
--   disabled          the address stopped receiving mail: a 5xx to RCPT TO (source smtp) or a permanent (5.x.x)
--                     delivery status notification mailed back later (source dsn)
--   bounce-transient  a DSN reporting a delay or a temporary (4.x.x) failure: kept, nothing changes
--   bounce-ignored    a permanent DSN for an address the person no longer has: kept, nothing changes
--   verification-sent / verified   the person was sent a confirmation link / confirmed the address (source user)
CREATE TABLE ops.email_address_events (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    uuid        NOT NULL,
  user_id      text        NOT NULL CHECK (length(user_id) BETWEEN 1 AND 200),
  email        text        NOT NULL CHECK (length(email) BETWEEN 1 AND 254),
  event        text        NOT NULL CHECK (event IN ('disabled', 'bounce-transient', 'bounce-ignored', 'verification-sent', 'verified')),
  source       text        NOT NULL CHECK (source IN ('smtp', 'dsn', 'user')),
  delivery_id  bigint,
  status       text        CHECK (length(status) <= 32),
  detail       text        CHECK (length(detail) <= 1000),
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_address_events_person ON ops.email_address_events (tenant_id, user_id, id DESC);
CREATE INDEX email_address_events_disabled ON ops.email_address_events (created_at DESC) WHERE event = 'disabled';
CREATE TRIGGER email_address_events_append_only BEFORE UPDATE OR DELETE ON ops.email_address_events
  FOR EACH ROW EXECUTE FUNCTION ops.reject_mutation();

-- Row-level security for this table is installed by 0236 (ops.protect_tenant_table is created by 0201).
