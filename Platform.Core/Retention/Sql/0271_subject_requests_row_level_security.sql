-- Subject requests behind row-level security (see 0201), and the erasure doors into append-only tables (see 0270):
-- the erasure of a person rewrites their rows there through these owner-defined functions only.
CALL ops.protect_tenant_table('governance.subject_requests');

DROP TRIGGER match_feedback_append_only ON events.match_feedback;
CREATE TRIGGER match_feedback_append_only BEFORE UPDATE OR DELETE ON events.match_feedback
    FOR EACH ROW EXECUTE FUNCTION ops.reject_mutation_unless_retention();

-- The person's own activities keep their place in the sequence (seq, time, type) and lose everything that was theirs.
CREATE FUNCTION core.erase_activity_author(p_tenant uuid, p_user text, p_pseudonym text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE n integer;
BEGIN
    PERFORM ops.retention_enter(p_tenant);
    UPDATE core.activities SET from_id = p_pseudonym, from_name = NULL, from_role = NULL, text = NULL, attachments = NULL, entities = NULL,
                               value = NULL, channel_data = NULL, name = NULL
     WHERE tenant_id = p_tenant AND from_id = p_user;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM ops.retention_leave();
    RETURN n;
END $$;

-- The person's notifications with their deliveries and attempts.
CREATE FUNCTION ops.erase_notification_recipient(p_tenant uuid, p_user text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE n integer;
BEGIN
    PERFORM ops.retention_enter(p_tenant);
    DELETE FROM ops.notification_outbox WHERE tenant_id = p_tenant AND user_id = p_user;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM ops.retention_leave();
    RETURN n;
END $$;

-- Match feedback keeps its features and weight updates (the matcher's provenance) under a pseudonym.
CREATE FUNCTION events.erase_feedback_subject(p_tenant uuid, p_user text, p_pseudonym text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE n integer;
BEGIN
    PERFORM ops.retention_enter(p_tenant);
    UPDATE events.match_feedback
       SET user_id = CASE WHEN user_id = p_user THEN p_pseudonym ELSE user_id END,
           match_user_id = CASE WHEN match_user_id = p_user THEN p_pseudonym ELSE match_user_id END
     WHERE tenant_id = p_tenant AND (user_id = p_user OR match_user_id = p_user);
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM ops.retention_leave();
    RETURN n;
END $$;

REVOKE ALL ON FUNCTION core.erase_activity_author(uuid, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ops.erase_notification_recipient(uuid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION events.erase_feedback_subject(uuid, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core.erase_activity_author(uuid, text, text) TO platform_service;
GRANT EXECUTE ON FUNCTION ops.erase_notification_recipient(uuid, text) TO platform_service;
GRANT EXECUTE ON FUNCTION events.erase_feedback_subject(uuid, text, text) TO platform_service;
