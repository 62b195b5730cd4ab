-- Indexes behind the Admin panel's read endpoints (Platform.Core/Admin/AdminReads.cs).

-- A tenant's conversations newest first across all its channels, keyset-paged on (created_at, id).
CREATE INDEX conversations_tenant_created ON core.conversations (tenant_id, created_at DESC, id DESC);

-- Activities per minute on the overview: a range over the last minutes instead of a scan of the log.
CREATE INDEX activities_created_at ON core.activities (created_at);

-- Tenants newest first with a stable tiebreak for keyset paging.
CREATE INDEX tenants_created ON core.tenants (created_at DESC, id DESC);
