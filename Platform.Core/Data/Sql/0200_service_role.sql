-- The services' role. Migrations run as the schema owner; Api, Realtime and Worker connect as a login role that is
-- platform_service or a member of it: no superuser, no row-level-security bypass, no DDL, only the table privileges
-- the services use. The login role and its password are not part of the schema: the migration host creates or updates
-- them from ConnectionStrings:platformdb (see docs/operations.md), or a DBA does.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'platform_service') THEN
        CREATE ROLE platform_service NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION;
    END IF;
END $$;

GRANT USAGE ON SCHEMA core, governance, community, civic, impact, events, ops TO platform_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA core, governance, community, civic, impact, events, ops TO platform_service;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA core, governance, community, civic, impact, events, ops TO platform_service;

-- Tables and schemas the owner creates later (later migrations, the job storage's schema) get the same grants.
ALTER DEFAULT PRIVILEGES GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO platform_service;
ALTER DEFAULT PRIVILEGES GRANT USAGE, SELECT ON SEQUENCES TO platform_service;
ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO platform_service;

-- The migration ledger is read (the readiness check) but only the owner writes it.
REVOKE INSERT, UPDATE, DELETE ON ops.schema_migrations FROM platform_service;

-- Append-only evidence: triggers already refuse UPDATE and DELETE; the service role is not even granted them.
REVOKE UPDATE, DELETE ON core.activities, events.match_feedback, ops.notification_attempts, governance.provenance_events
    FROM platform_service;
