-- Learning catalysts linked to what came of them, and the learning goals members want recommendations for.

-- An outcome a catalyst led to: an idea of the innovation module (adoptions are its measurable spread), a skill
-- gained, a project delivered, a metric that moved, or something else, each with who recorded it.
CREATE TABLE community.catalyst_outcomes (
    id           uuid             PRIMARY KEY,
    tenant_id    uuid             NOT NULL REFERENCES core.tenants (id),
    catalyst_id  uuid             NOT NULL REFERENCES community.learning_catalysts (id),
    kind         text             NOT NULL CHECK (kind IN ('idea', 'skill', 'project', 'metric', 'other')),
    description  text             NOT NULL CHECK (length(description) BETWEEN 1 AND 2000),
    idea_id      uuid             REFERENCES community.ideas (id),
    metric       text,
    value        double precision,
    occurred_at  timestamptz      NOT NULL,
    recorded_by  text             NOT NULL,
    created_at   timestamptz      NOT NULL DEFAULT now(),
    CHECK ((kind = 'idea') = (idea_id IS NOT NULL))
);
CREATE INDEX catalyst_outcomes_catalyst ON community.catalyst_outcomes (tenant_id, catalyst_id, occurred_at);

-- What a member wants to learn; the tags learning recommendations match against.
CREATE TABLE community.learning_goals (
    tenant_id   uuid        NOT NULL REFERENCES core.tenants (id),
    user_id     text        NOT NULL,
    goals       text[]      NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
