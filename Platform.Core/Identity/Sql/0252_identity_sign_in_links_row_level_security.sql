-- Sign-in links behind row-level security (see 0201).
CALL ops.protect_tenant_table('identity.sign_in_links');
