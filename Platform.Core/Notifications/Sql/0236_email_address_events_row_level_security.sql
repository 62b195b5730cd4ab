-- The email address events of 0036 behind row-level security (see 0201; protected here because 0201 runs after 0036).
CALL ops.protect_tenant_table('ops.email_address_events');
