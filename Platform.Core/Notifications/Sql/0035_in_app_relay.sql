-- In-app delivery off the job path. The producer's transaction writes the in-app delivery row next to the outbox
-- row; a trigger NOTIFYs at commit, and the in-app relay (Worker) claims pending rows, marks them sent, publishes them
-- to Redis and then stamps published_at. A row that is sent but not published after a while belongs to a relay that
-- died between its commit and its publish: another relay publishes it again (clients drop ids they already have).

ALTER TABLE ops.notification_deliveries ADD COLUMN published_at timestamptz;
-- Everything delivered in-app before this migration was published by the job that marked it sent.
UPDATE ops.notification_deliveries SET published_at = coalesce(sent_at, updated_at) WHERE channel = 'in_app' AND state = 'sent';

CREATE INDEX notification_deliveries_in_app_pending ON ops.notification_deliveries (id)
  WHERE channel = 'in_app' AND state = 'pending';
CREATE INDEX notification_deliveries_in_app_unpublished ON ops.notification_deliveries (updated_at)
  WHERE channel = 'in_app' AND state = 'sent' AND published_at IS NULL;

CREATE FUNCTION ops.notify_in_app_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Delivered at commit, once per transaction (identical notifications are folded together).
  PERFORM pg_notify('platform_notifications_in_app', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER notification_deliveries_in_app_pending
  AFTER INSERT OR UPDATE OF state ON ops.notification_deliveries
  FOR EACH ROW WHEN (NEW.channel = 'in_app' AND NEW.state = 'pending')
  EXECUTE FUNCTION ops.notify_in_app_pending();
