-- The digest table of 0034 behind row-level security (see 0201; protected here because 0201 runs after 0034).
CALL ops.protect_tenant_table('ops.notification_digests');
