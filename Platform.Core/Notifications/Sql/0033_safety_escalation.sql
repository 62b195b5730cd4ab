-- Safety escalation: the people a tenant designates to hear at once about a self-harm or violence flag, and the audit
-- of every escalation (who was notified, by which notifications), append-only.
CREATE TABLE ops.safety_contacts (
  tenant_id   uuid        NOT NULL,
  user_id     text        NOT NULL CHECK (length(user_id) BETWEEN 1 AND 200),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id)
);

CREATE TABLE ops.safety_escalations (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   uuid        NOT NULL,
  flag_id     uuid        NOT NULL,
  categories  text[]      NOT NULL,
  signals     text[]      NOT NULL,
  contacts    text[]      NOT NULL,
  outbox_ids  bigint[]    NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, flag_id)
);
CREATE TRIGGER safety_escalations_append_only BEFORE UPDATE OR DELETE ON ops.safety_escalations
  FOR EACH ROW EXECUTE FUNCTION ops.reject_mutation();

-- Row-level security for these tables is installed by 0233 (ops.protect_tenant_table is created by 0201).
