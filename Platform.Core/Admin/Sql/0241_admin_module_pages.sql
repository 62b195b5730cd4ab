-- Indexes behind the Admin panel's module pages (Platform.Core/Admin/ModuleReads.cs): each list across tenants is
-- newest first, keyset-paged on (time, id), so every page is an index range instead of a sort of the whole table.
-- Numbered after the modules' own migrations (events 0080, impact 0070) because it indexes their tables.
CREATE INDEX conferences_created ON events.conferences (created_at DESC, id DESC);
CREATE INDEX companies_created ON impact.companies (created_at DESC, id DESC);
CREATE INDEX imports_created ON impact.imports (created_at DESC, id DESC);
CREATE INDEX webhook_rejections_last ON impact.webhook_rejections (last_at DESC, id DESC);
CREATE INDEX privacy_requests_requested ON impact.privacy_requests (requested_at DESC, id DESC);
