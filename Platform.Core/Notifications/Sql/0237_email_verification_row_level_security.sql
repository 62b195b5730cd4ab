-- The confirmation links of 0037 behind row-level security (see 0201; protected here because 0201 runs after 0037).
CALL ops.protect_tenant_table('ops.email_verifications');
