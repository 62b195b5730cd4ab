-- Collaborator recommendation tables behind row-level security (see 0201).
CALL ops.protect_tenant_table('community.expertise_embeddings');
CALL ops.protect_tenant_table('community.collaborator_weights');
CALL ops.protect_tenant_table('community.collaborator_feedback');
