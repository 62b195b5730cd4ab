-- Governance tables behind row-level security (see 0201), including the PII access log the impact module writes.
CALL ops.protect_tenant_table('governance.consents');
CALL ops.protect_tenant_table('governance.approvals');
CALL ops.protect_tenant_table('governance.provenance_events');
CALL ops.protect_tenant_table('governance.pii_access_log');
