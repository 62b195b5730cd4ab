-- Nudge executions behind row-level security (see 0201).
CALL ops.protect_tenant_table('community.nudge_executions');
