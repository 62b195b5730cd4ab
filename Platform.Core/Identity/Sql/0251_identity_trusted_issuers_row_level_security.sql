-- Trusted issuers behind row-level security (see 0201).
CALL ops.protect_tenant_table('identity.trusted_issuers');
