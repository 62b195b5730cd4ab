-- The tenant's search language behind row-level security (see 0201).
CALL ops.protect_tenant_table('core.search_settings');
