-- The identity module's tables behind row-level security (see 0201). The schema is created before the services'
-- role exists on a fresh database (0110 < 0200), so its grants are given here.
GRANT USAGE ON SCHEMA identity TO platform_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA identity TO platform_service;

CALL ops.protect_tenant_table('identity.clients');
CALL ops.protect_tenant_table('identity.scopes');
CALL ops.protect_tenant_table('identity.authorizations');
CALL ops.protect_tenant_table('identity.tokens');
CALL ops.protect_tenant_table('identity.users');
CALL ops.protect_tenant_table('identity.memberships');
CALL ops.protect_tenant_table('identity.branding');
