-- The stored profile embeddings behind row-level security (see 0201).
CALL ops.protect_tenant_table('events.profile_embeddings');
