-- The safety escalation tables of 0033 behind row-level security (see 0201; protected here because 0201 runs after 0033).
CALL ops.protect_tenant_table('ops.safety_contacts');
CALL ops.protect_tenant_table('ops.safety_escalations');
