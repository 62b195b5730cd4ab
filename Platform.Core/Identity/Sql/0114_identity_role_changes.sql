-- The audit of role changes: every grant and removal, by whom (the tenant's API key, or an operator in the admin
-- panel), written by the statement that makes the change. Append-only: no code updates or deletes a row.
CREATE TABLE identity.role_changes (
    tenant_id  uuid        NOT NULL REFERENCES core.tenants (id),
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    user_id    uuid        NOT NULL,
    action     text        NOT NULL CHECK (action IN ('grant', 'remove')),
    role       text        NOT NULL,
    scope_id   text        NOT NULL DEFAULT '',
    actor      text        NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX role_changes_user ON identity.role_changes (tenant_id, user_id, id DESC);
