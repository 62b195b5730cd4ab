-- Convener's tables behind row-level security (see 0201).
CALL ops.protect_tenant_table('community.members');
CALL ops.protect_tenant_table('community.signals');
CALL ops.protect_tenant_table('community.activity_cursors');
CALL ops.protect_tenant_table('community.rankings');
CALL ops.protect_tenant_table('community.surveys');
CALL ops.protect_tenant_table('community.survey_responses');
CALL ops.protect_tenant_table('community.learning_catalysts');
CALL ops.protect_tenant_table('community.ideas');
CALL ops.protect_tenant_table('community.adoptions');
