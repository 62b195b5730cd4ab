-- The email tables of 0032 behind row-level security (see 0201; protected here because 0201 runs after 0032).
CALL ops.protect_tenant_table('ops.notification_profiles');
CALL ops.protect_tenant_table('ops.notification_branding');
