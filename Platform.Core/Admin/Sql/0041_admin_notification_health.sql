-- Indexes behind the Admin panel's notification health (Platform.Core/Admin/NotificationHealth.cs).

-- The backlog: deliveries still pending, counted and aged without scanning the delivery log.
CREATE INDEX notification_deliveries_pending ON ops.notification_deliveries (created_at) WHERE state = 'pending';

-- Deliveries per channel over the last day: a range on created_at.
CREATE INDEX notification_deliveries_created ON ops.notification_deliveries (created_at);

-- Endpoints disabled after failures, most recent first, keyset-paged.
CREATE INDEX webhook_endpoints_disabled ON ops.webhook_endpoints (disabled_at DESC, id DESC) WHERE status = 'disabled';
