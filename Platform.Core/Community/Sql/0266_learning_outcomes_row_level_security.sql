-- Catalyst outcomes and learning goals behind row-level security (see 0201).
CALL ops.protect_tenant_table('community.catalyst_outcomes');
CALL ops.protect_tenant_table('community.learning_goals');
