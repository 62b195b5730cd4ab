-- Converger tables behind row-level security (see 0201): credentials, channels, conversations, activities.
CALL ops.protect_tenant_table('core.api_keys');
CALL ops.protect_tenant_table('core.channels');
CALL ops.protect_tenant_table('core.conversations');
CALL ops.protect_tenant_table('core.activities');
