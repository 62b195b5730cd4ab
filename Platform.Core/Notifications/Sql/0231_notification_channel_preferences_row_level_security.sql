-- The per type × channel preference tables of 0031 behind row-level security (see 0201). They are protected here
-- rather than in 0031 because ops.protect_tenant_table exists only from 0201 on.
CALL ops.protect_tenant_table('ops.notification_channel_preferences');
CALL ops.protect_tenant_table('ops.notification_channel_defaults');
