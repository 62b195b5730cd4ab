-- What carrying out an approved nudge did. One row per approval, ever: the primary key is the exactly-once guard
-- (a retried job or a replayed approval finds the row and does nothing again).
CREATE TABLE community.nudge_executions (
    approval_id         uuid        PRIMARY KEY REFERENCES governance.approvals (id),
    tenant_id           uuid        NOT NULL REFERENCES core.tenants (id),
    action              text        NOT NULL CHECK (action IN ('message', 'collaboration_space')),
    status              text        NOT NULL CHECK (status IN ('sent', 'created', 'skipped')),
    reason              text,
    conversation_id     uuid,
    members             text[]      NOT NULL DEFAULT '{}',
    excluded            integer     NOT NULL DEFAULT 0,
    notifications       bigint[]    NOT NULL DEFAULT '{}',
    provenance_event_id uuid        NOT NULL,
    executed_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX nudge_executions_tenant ON community.nudge_executions (tenant_id, executed_at);
