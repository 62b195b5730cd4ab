-- Direct Line's tables behind row-level security (see 0201).
CALL ops.protect_tenant_table('core.directline_uploads');
CALL ops.protect_tenant_table('core.directline_conversations');
