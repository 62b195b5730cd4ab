-- The role audit behind row-level security (see 0201).
CALL ops.protect_tenant_table('identity.role_changes');
