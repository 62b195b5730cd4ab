-- Social impact tables behind row-level security (see 0201). Webhook rejections of requests that named no known
-- tenant keep tenant_id NULL: no tenant scope sees or writes them, only the system scope.
CALL ops.protect_tenant_table('impact.companies');
CALL ops.protect_tenant_table('impact.people');
CALL ops.protect_tenant_table('impact.person_keys');
CALL ops.protect_tenant_table('impact.external_ids');
CALL ops.protect_tenant_table('impact.enrollments');
CALL ops.protect_tenant_table('impact.sessions');
CALL ops.protect_tenant_table('impact.texts');
CALL ops.protect_tenant_table('impact.course_progress');
CALL ops.protect_tenant_table('impact.outcome_scores');
CALL ops.protect_tenant_table('impact.evidence_snippets');
CALL ops.protect_tenant_table('impact.metrics_company_period');
CALL ops.protect_tenant_table('impact.imports');
CALL ops.protect_tenant_table('impact.webhook_sources');
CALL ops.protect_tenant_table('impact.domain_events');
CALL ops.protect_tenant_table('impact.webhook_rejections');
CALL ops.protect_tenant_table('impact.safety_flags');
CALL ops.protect_tenant_table('impact.privacy_requests');
