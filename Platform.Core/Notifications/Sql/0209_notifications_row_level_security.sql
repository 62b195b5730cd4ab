-- Notification tables behind row-level security (see 0201).
CALL ops.protect_tenant_table('ops.notification_outbox');
CALL ops.protect_tenant_table('ops.notification_deliveries');
CALL ops.protect_tenant_table('ops.notification_attempts');
CALL ops.protect_tenant_table('ops.notification_preferences');
CALL ops.protect_tenant_table('ops.push_subscriptions');
CALL ops.protect_tenant_table('ops.webhook_endpoints');
