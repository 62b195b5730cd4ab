-- Full-text search over civic meetings and decisions, conversation messages, community members (by skill) and
-- conference attendees (by interest). Each searchable row stores the text search configuration it was indexed with
-- (search_config) and a generated tsvector over it, so the index follows the row without application code. A new row
-- takes its tenant's configuration (core.search_settings) in a BEFORE INSERT trigger; a tenant without one gets
-- 'simple', which stems nothing and so works for any language. Queries OR the tenant's configuration with 'simple',
-- so rows indexed before a tenant changed language still match.

CREATE TABLE core.search_settings (
    tenant_id          uuid        PRIMARY KEY REFERENCES core.tenants (id),
    text_search_config regconfig   NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION core.search_config_for(tenant uuid) RETURNS regconfig
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce((SELECT text_search_config FROM core.search_settings WHERE tenant_id = tenant), 'simple'::regconfig)
$$;

CREATE FUNCTION core.fill_search_config() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_config := core.search_config_for(NEW.tenant_id);
    RETURN NEW;
END $$;

-- array_to_string is only STABLE (element output functions may depend on settings); for text[] it is immutable,
-- and a generated column needs an immutable expression.
CREATE FUNCTION core.search_words(words text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT array_to_string(words, ' ') $$;

-- Civic meetings: the title; the meeting's document text lives on its artifact.
ALTER TABLE civic.meetings ADD COLUMN search_config regconfig NOT NULL DEFAULT 'simple';
ALTER TABLE civic.meetings ADD COLUMN search_tsv tsvector
    GENERATED ALWAYS AS (setweight(to_tsvector(search_config, title), 'A')) STORED;
CREATE INDEX meetings_search ON civic.meetings USING gin (search_tsv);
CREATE TRIGGER meetings_search_config BEFORE INSERT ON civic.meetings FOR EACH ROW EXECUTE FUNCTION core.fill_search_config();

-- Positions in a tsvector stop at 16,383 and a tsvector is at most 1 MB: the first 200,000 characters are indexed.
ALTER TABLE civic.artifacts ADD COLUMN search_config regconfig NOT NULL DEFAULT 'simple';
ALTER TABLE civic.artifacts ADD COLUMN search_tsv tsvector
    GENERATED ALWAYS AS (setweight(to_tsvector(search_config, left(coalesce(text_content, ''), 200000)), 'C')) STORED;
CREATE INDEX artifacts_search ON civic.artifacts USING gin (search_tsv);
CREATE TRIGGER artifacts_search_config BEFORE INSERT ON civic.artifacts FOR EACH ROW EXECUTE FUNCTION core.fill_search_config();

-- Decisions are the summary claims of kind 'decision'. Claims carry no tenant: the configuration comes through the
-- summary version's meeting.
ALTER TABLE civic.claims ADD COLUMN search_config regconfig NOT NULL DEFAULT 'simple';
ALTER TABLE civic.claims ADD COLUMN search_tsv tsvector
    GENERATED ALWAYS AS (to_tsvector(search_config, text)) STORED;
CREATE INDEX claims_search ON civic.claims USING gin (search_tsv) WHERE kind = 'decision';
CREATE FUNCTION civic.fill_claim_search_config() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_config := coalesce((SELECT m.search_config FROM civic.summary_versions v JOIN civic.meetings m ON m.id = v.meeting_id
                                    WHERE v.id = NEW.summary_version_id), 'simple'::regconfig);
    RETURN NEW;
END $$;
CREATE TRIGGER claims_search_config BEFORE INSERT ON civic.claims FOR EACH ROW EXECUTE FUNCTION civic.fill_claim_search_config();

-- Conversation messages (events carry no text worth searching).
ALTER TABLE core.activities ADD COLUMN search_config regconfig NOT NULL DEFAULT 'simple';
ALTER TABLE core.activities ADD COLUMN search_tsv tsvector
    GENERATED ALWAYS AS (CASE WHEN type = 'message' THEN to_tsvector(search_config, coalesce(text, '')) END) STORED;
CREATE INDEX activities_search ON core.activities USING gin (search_tsv);
CREATE TRIGGER activities_search_config BEFORE INSERT ON core.activities FOR EACH ROW EXECUTE FUNCTION core.fill_search_config();

-- Members: skills weigh most, then the name, then team and organisation.
ALTER TABLE community.members ADD COLUMN search_config regconfig NOT NULL DEFAULT 'simple';
ALTER TABLE community.members ADD COLUMN search_tsv tsvector
    GENERATED ALWAYS AS (
        setweight(to_tsvector(search_config, core.search_words(skills)), 'A') ||
        setweight(to_tsvector(search_config, display_name), 'B') ||
        setweight(to_tsvector(search_config, coalesce(team, '') || ' ' || coalesce(org, '')), 'C')) STORED;
CREATE INDEX members_search ON community.members USING gin (search_tsv);
CREATE TRIGGER members_search_config BEFORE INSERT ON community.members FOR EACH ROW EXECUTE FUNCTION core.fill_search_config();

-- Attendees: interest tags weigh most (profile.interests is {tag: weight}: its keys are indexed), then what they seek
-- and offer and their skills, then the bio.
ALTER TABLE events.attendees ADD COLUMN search_config regconfig NOT NULL DEFAULT 'simple';
ALTER TABLE events.attendees ADD COLUMN search_tsv tsvector
    GENERATED ALWAYS AS (
        setweight(jsonb_to_tsvector(search_config, coalesce(profile -> 'interests', '{}'), '["key", "string"]'), 'A') ||
        setweight(jsonb_to_tsvector(search_config, coalesce(profile -> 'seeking', '[]'), '["string"]') ||
                  jsonb_to_tsvector(search_config, coalesce(profile -> 'offering', '[]'), '["string"]') ||
                  jsonb_to_tsvector(search_config, coalesce(profile -> 'skills', '[]'), '["string"]'), 'B') ||
        setweight(to_tsvector(search_config, coalesce(bio, '')), 'C')) STORED;
CREATE INDEX attendees_search ON events.attendees USING gin (search_tsv);
CREATE TRIGGER attendees_search_config BEFORE INSERT ON events.attendees FOR EACH ROW EXECUTE FUNCTION core.fill_search_config();
