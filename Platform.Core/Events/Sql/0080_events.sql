-- Conference intelligence: conferences, attendee profiles, matches, feedback, gatherings, reports.
-- Every row carries tenant_id and every statement filters by it, so one tenant never reads another's rows.

CREATE TABLE events.conferences (
    id           uuid        PRIMARY KEY,
    tenant_id    uuid        NOT NULL REFERENCES core.tenants (id),
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    branding     jsonb       NOT NULL DEFAULT '{}',   -- {displayName, primaryColor, accentColor, logoUrl}
    features     jsonb       NOT NULL DEFAULT '{}',   -- {matchmaking, gatherings, presence, reports}: false turns one off
    limits       jsonb       NOT NULL DEFAULT '{}',   -- {attendeeCap, requestsPerMinute}
    -- Per-conference matcher weights, moved by feedback (docs/matchmaking.md, online update).
    weight_interests        double precision NOT NULL DEFAULT 0.4,
    weight_complementarity  double precision NOT NULL DEFAULT 0.4,
    weight_bio              double precision NOT NULL DEFAULT 0.2,
    -- Bumped by every profile write: the cached matching index is valid for exactly one revision.
    revision     bigint      NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conferences_tenant ON events.conferences (tenant_id, created_at);

CREATE TABLE events.attendees (
    tenant_id         uuid        NOT NULL,
    conference_id     uuid        NOT NULL REFERENCES events.conferences (id),
    user_id           text        NOT NULL CHECK (length(user_id) BETWEEN 1 AND 200),
    display_name      text        NOT NULL,
    kind              text        NOT NULL DEFAULT 'attendee' CHECK (kind IN ('attendee', 'speaker', 'exhibitor')),
    company           text,
    role              text,
    industry          text,
    bio               text,
    -- {skills: [], interests: {tag: weight}, offering: [], seeking: [], availability: [{start, end}]}
    profile           jsonb       NOT NULL,
    consent_to_match  boolean     NOT NULL,
    consent_to_invites boolean    NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conference_id, user_id)
);
CREATE INDEX attendees_tenant ON events.attendees (tenant_id, conference_id);

-- Output of the batch / incremental match calculation job: each attendee's top matches.
CREATE TABLE events.matches (
    tenant_id      uuid             NOT NULL,
    conference_id  uuid             NOT NULL REFERENCES events.conferences (id),
    user_id        text             NOT NULL,
    rank           int              NOT NULL,
    match_user_id  text             NOT NULL,
    score          double precision NOT NULL,
    reasons        jsonb            NOT NULL,
    starter        text             NOT NULL,
    computed_at    timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (conference_id, user_id, rank)
);

-- Feedback log (provenance stand-in until governance provenance lands): what was shown, what the
-- weights were before and after the online update. Append-only.
CREATE TABLE events.match_feedback (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       uuid             NOT NULL,
    conference_id   uuid             NOT NULL REFERENCES events.conferences (id),
    user_id         text             NOT NULL,
    match_user_id   text             NOT NULL,
    outcome         text             NOT NULL CHECK (outcome IN ('accepted', 'declined', 'met')),
    features        double precision[] NOT NULL,   -- [interestOverlap, complementarity, bioSimilarity] of user→match
    pair_score      double precision NOT NULL,
    weights_before  double precision[] NOT NULL,
    weights_after   double precision[] NOT NULL,
    algorithm       text             NOT NULL,
    created_at      timestamptz      NOT NULL DEFAULT now()
);
CREATE INDEX match_feedback_conference ON events.match_feedback (tenant_id, conference_id, created_at);
CREATE TRIGGER match_feedback_append_only BEFORE UPDATE OR DELETE ON events.match_feedback
    FOR EACH ROW EXECUTE FUNCTION ops.reject_mutation();

CREATE TABLE events.gatherings (
    id             uuid        PRIMARY KEY,
    tenant_id      uuid        NOT NULL,
    conference_id  uuid        NOT NULL REFERENCES events.conferences (id),
    topic          text        NOT NULL CHECK (length(topic) BETWEEN 1 AND 200),
    tags           text[]      NOT NULL,
    place          text        NOT NULL,
    starts_at      timestamptz NOT NULL,
    ends_at        timestamptz NOT NULL,
    capacity       int         NOT NULL CHECK (capacity BETWEEN 1 AND 10000),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);
CREATE INDEX gatherings_conference ON events.gatherings (tenant_id, conference_id, starts_at);

-- Invitations are recorded here whatever delivers them (notifications, when on the branch).
CREATE TABLE events.gathering_invitations (
    gathering_id  uuid        NOT NULL REFERENCES events.gatherings (id),
    tenant_id     uuid        NOT NULL,
    user_id       text        NOT NULL,
    status        text        NOT NULL DEFAULT 'invited' CHECK (status IN ('invited', 'accepted', 'declined')),
    source        text        NOT NULL CHECK (source IN ('auto', 'manual', 'rsvp')),
    invited_at    timestamptz NOT NULL DEFAULT now(),
    responded_at  timestamptz,
    PRIMARY KEY (gathering_id, user_id)
);

CREATE TABLE events.reports (
    id             uuid        PRIMARY KEY,
    tenant_id      uuid        NOT NULL,
    conference_id  uuid        NOT NULL REFERENCES events.conferences (id),
    status         text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'failed')),
    job_id         bigint,
    share_token    text        NOT NULL UNIQUE,
    result         jsonb,
    html           text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    completed_at   timestamptz
);
CREATE INDEX reports_conference ON events.reports (tenant_id, conference_id, created_at);
