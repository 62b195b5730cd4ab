-- External providers and the accounts linked through them, behind row-level security (see 0201).
CALL ops.protect_tenant_table('identity.external_providers');
CALL ops.protect_tenant_table('identity.external_logins');
