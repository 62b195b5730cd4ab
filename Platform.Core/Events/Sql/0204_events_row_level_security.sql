-- Conference intelligence's tables behind row-level security (see 0201).
CALL ops.protect_tenant_table('events.conferences');
CALL ops.protect_tenant_table('events.attendees');
CALL ops.protect_tenant_table('events.matches');
CALL ops.protect_tenant_table('events.match_feedback');
CALL ops.protect_tenant_table('events.gatherings');
CALL ops.protect_tenant_table('events.gathering_invitations');
CALL ops.protect_tenant_table('events.reports');
