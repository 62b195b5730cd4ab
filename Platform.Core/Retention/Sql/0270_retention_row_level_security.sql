-- Retention's tables behind row-level security (see 0201), and the one door through which the retention job (and
-- erasure) may remove rows of append-only tables.
CALL ops.protect_tenant_table('governance.retention_settings');
CALL ops.protect_tenant_table('governance.retention_runs');

-- Append-only tables refuse UPDATE and DELETE by trigger, and the services' role holds no such privilege on them.
-- Retention and erasure still have to remove or anonymise their rows. They do it only through the SECURITY DEFINER
-- functions below (run as the owner, so the privilege is there), which prove themselves to the trigger with a random
-- token only the owner can read: a service session that sets the same setting by hand does not know the value.
CREATE TABLE ops.retention_bypass (token text NOT NULL);
INSERT INTO ops.retention_bypass (token) VALUES (encode(sha256(gen_random_uuid()::text::bytea || clock_timestamp()::text::bytea), 'hex'));
REVOKE ALL ON ops.retention_bypass FROM platform_service;

CREATE FUNCTION ops.reject_mutation_unless_retention() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    IF coalesce(current_setting('platform.retention_token', true), '') <> ''
       AND current_setting('platform.retention_token', true) = (SELECT token FROM ops.retention_bypass LIMIT 1) THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION '% on %.% is not allowed: the table is append-only', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'raise_exception';
END $$;

DROP TRIGGER activities_append_only ON core.activities;
CREATE TRIGGER activities_append_only BEFORE UPDATE OR DELETE ON core.activities
    FOR EACH ROW EXECUTE FUNCTION ops.reject_mutation_unless_retention();
DROP TRIGGER notification_attempts_append_only ON ops.notification_attempts;
CREATE TRIGGER notification_attempts_append_only BEFORE UPDATE OR DELETE ON ops.notification_attempts
    FOR EACH ROW EXECUTE FUNCTION ops.reject_mutation_unless_retention();

-- Refuses to work outside the caller's tenant scope: a service connection can purge only the tenant it is scoped to.
CREATE FUNCTION ops.retention_enter(p_tenant uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    IF p_tenant IS NULL OR p_tenant IS DISTINCT FROM ops.current_tenant() THEN
        RAISE EXCEPTION 'retention work for tenant % outside its tenant scope', p_tenant USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM set_config('platform.retention_token', (SELECT token FROM ops.retention_bypass LIMIT 1), true);
END $$;
REVOKE ALL ON FUNCTION ops.retention_enter(uuid) FROM PUBLIC;

CREATE FUNCTION ops.retention_leave() RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$ SELECT set_config('platform.retention_token', '', true) $$;
REVOKE ALL ON FUNCTION ops.retention_leave() FROM PUBLIC;

-- The oldest activities of one tenant created before p_before, at most p_limit (one batch, one short transaction).
CREATE FUNCTION core.retention_purge_activities(p_tenant uuid, p_before timestamptz, p_limit integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE n integer;
BEGIN
    PERFORM ops.retention_enter(p_tenant);
    DELETE FROM core.activities a
     USING (SELECT conversation_id, seq FROM core.activities
             WHERE tenant_id = p_tenant AND created_at < p_before ORDER BY created_at LIMIT p_limit) o
     WHERE a.conversation_id = o.conversation_id AND a.seq = o.seq;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM ops.retention_leave();
    RETURN n;
END $$;

-- Notification records (the inbox row, its deliveries and their attempts) of one tenant created before p_before.
CREATE FUNCTION ops.retention_purge_notifications(p_tenant uuid, p_before timestamptz, p_limit integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE n integer;
BEGIN
    PERFORM ops.retention_enter(p_tenant);
    DELETE FROM ops.notification_outbox o
     USING (SELECT id FROM ops.notification_outbox WHERE tenant_id = p_tenant AND created_at < p_before ORDER BY created_at LIMIT p_limit) x
     WHERE o.id = x.id;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM ops.retention_leave();
    RETURN n;
END $$;

REVOKE ALL ON FUNCTION core.retention_purge_activities(uuid, timestamptz, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION ops.retention_purge_notifications(uuid, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core.retention_purge_activities(uuid, timestamptz, integer) TO platform_service;
GRANT EXECUTE ON FUNCTION ops.retention_purge_notifications(uuid, timestamptz, integer) TO platform_service;
