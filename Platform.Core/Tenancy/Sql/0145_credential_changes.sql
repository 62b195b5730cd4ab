-- Processes that cache resolved API keys (the Api) drop their cache when a key is revoked or deleted or a tenant's
-- status changes: these triggers NOTIFY at commit, whoever made the change (Api, Admin, a script), so a second host
-- refuses a revoked key as soon as the notification arrives instead of when its cached entry expires.

CREATE FUNCTION core.notify_credentials_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Delivered at commit, once per transaction (identical notifications are folded together).
  PERFORM pg_notify('platform_credentials_changed', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_changed
  AFTER UPDATE OR DELETE ON core.api_keys
  FOR EACH ROW EXECUTE FUNCTION core.notify_credentials_changed();

CREATE TRIGGER tenants_status_changed
  AFTER UPDATE OF status ON core.tenants
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION core.notify_credentials_changed();

CREATE TRIGGER tenants_deleted
  AFTER DELETE ON core.tenants
  FOR EACH ROW EXECUTE FUNCTION core.notify_credentials_changed();
