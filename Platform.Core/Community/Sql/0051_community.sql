-- Convener: member directory, interaction signals, rankings, pulse surveys, learning, innovation.

CREATE TABLE community.members (
    tenant_id    uuid        NOT NULL REFERENCES core.tenants (id),
    user_id      text        NOT NULL,
    display_name text        NOT NULL,
    team         text,
    org          text,
    cohort       text,
    skills       text[]      NOT NULL DEFAULT '{}',
    roles        text[]      NOT NULL DEFAULT '{}',   -- e.g. team_lead: who gets the team's notifications
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX members_team ON community.members (tenant_id, team);

-- Signals keep no message text: only a sentiment score computed on the way in (data minimisation).
CREATE TABLE community.signals (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       uuid             NOT NULL REFERENCES core.tenants (id),
    kind            text             NOT NULL CHECK (kind IN ('message', 'reply', 'mention', 'reaction', 'endorsement', 'event_attendance', 'learning_log')),
    actor_id        text             NOT NULL,
    target_id       text,
    team            text,
    occurred_at     timestamptz      NOT NULL,
    weight          double precision,
    source_ref      text,
    sentiment       double precision,
    latency_seconds double precision,
    created_at      timestamptz      NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX signals_source_ref ON community.signals (tenant_id, source_ref) WHERE source_ref IS NOT NULL;
CREATE INDEX signals_window ON community.signals (tenant_id, occurred_at);
CREATE INDEX signals_actor ON community.signals (tenant_id, actor_id, occurred_at);

-- How far the activity → signal extraction has read each conversation.
CREATE TABLE community.activity_cursors (
    conversation_id uuid   PRIMARY KEY,
    tenant_id       uuid   NOT NULL,
    last_seq        bigint NOT NULL
);

-- One stored, versioned ranking per scoring run: parameters, input hash, and both lists.
CREATE TABLE community.rankings (
    id                  uuid             PRIMARY KEY,
    tenant_id           uuid             NOT NULL REFERENCES core.tenants (id),
    computed_at         timestamptz      NOT NULL,
    algorithm           text             NOT NULL,
    version             text             NOT NULL,
    parameters          jsonb            NOT NULL,
    input_hash          text             NOT NULL,
    members             integer          NOT NULL,
    signals             integer          NOT NULL,
    excluded            integer          NOT NULL,
    betweenness_exact   boolean          NOT NULL,
    error_bound         double precision NOT NULL,
    result              jsonb            NOT NULL,
    provenance_event_id uuid             NOT NULL
);
CREATE INDEX rankings_latest ON community.rankings (tenant_id, computed_at DESC);

CREATE TABLE community.surveys (
    id         uuid        PRIMARY KEY,
    tenant_id  uuid        NOT NULL REFERENCES core.tenants (id),
    title      text        NOT NULL,
    team       text,
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE community.survey_responses (
    survey_id     uuid        NOT NULL REFERENCES community.surveys (id),
    tenant_id     uuid        NOT NULL,
    respondent_id text        NOT NULL,
    answers       smallint[]  NOT NULL CHECK (array_length(answers, 1) = 7),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (survey_id, respondent_id)
);

CREATE TABLE community.learning_catalysts (
    id            uuid        PRIMARY KEY,
    tenant_id     uuid        NOT NULL REFERENCES core.tenants (id),
    title         text        NOT NULL,
    tags          text[]      NOT NULL DEFAULT '{}',
    contributors  text[]      NOT NULL DEFAULT '{}',
    outcomes      jsonb       NOT NULL DEFAULT '[]',
    occurred_at   timestamptz NOT NULL,
    created_by    text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX catalysts_contributors ON community.learning_catalysts USING gin (contributors);

CREATE TABLE community.ideas (
    id            uuid        PRIMARY KEY,
    tenant_id     uuid        NOT NULL REFERENCES core.tenants (id),
    title         text        NOT NULL,
    originator_id text        NOT NULL,
    team          text,
    notified_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- The lineage tree: each adopter learned it from source_adopter_id (null = from the originator).
CREATE TABLE community.adoptions (
    idea_id           uuid        NOT NULL REFERENCES community.ideas (id),
    tenant_id         uuid        NOT NULL,
    adopter_id        text        NOT NULL,
    source_adopter_id text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (idea_id, adopter_id)
);
