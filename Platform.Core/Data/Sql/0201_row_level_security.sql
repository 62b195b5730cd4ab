-- Row-level security keyed on the connection's tenant scope (Platform.Core/Data/TenantScope.cs): a protected table
-- shows and accepts only rows of the tenant in platform.tenant_id, or every row when platform.system names why the
-- work is cross-tenant. With neither set, no row: forgetting the scope fails closed. The policies are permissive, so
-- they combine with OR; FORCE makes them bind the table owner too (only a superuser or a BYPASSRLS role skips them).

-- '' after the pool's reset (RESET ALL), NULL before any set_config: both mean "no tenant".
CREATE FUNCTION ops.current_tenant() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT nullif(current_setting('platform.tenant_id', true), '')::uuid $$;

CREATE FUNCTION ops.system_scope() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT coalesce(current_setting('platform.system', true), '') <> '' $$;

-- Every tenant-owned table is protected by this one call, so the policy is the same everywhere.
CREATE PROCEDURE ops.protect_tenant_table(target regclass)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', target);
    EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (tenant_id = ops.current_tenant()) WITH CHECK (tenant_id = ops.current_tenant())', target);
    EXECUTE format('CREATE POLICY system_scope ON %s USING (ops.system_scope()) WITH CHECK (ops.system_scope())', target);
END $$;
