-- Civic meeting digests' tenant tables behind row-level security (see 0201). Sources, summary versions, claims and
-- evidence carry no tenant_id: they are reached through a city or meeting, which is protected.
CALL ops.protect_tenant_table('civic.cities');
CALL ops.protect_tenant_table('civic.artifacts');
CALL ops.protect_tenant_table('civic.meetings');
CALL ops.protect_tenant_table('civic.processing_runs');
CALL ops.protect_tenant_table('civic.profiles');
