-- A report's share link carries its own expiry, chosen when the report is requested (default and maximum in code).
-- Links made before keep the 30 days they were given.
ALTER TABLE events.reports ADD COLUMN share_expires_at timestamptz NULL;
-- events.reports is behind forced row-level security: the owner too needs the system scope to see every tenant's rows.
SELECT set_config('platform.system', 'migration: share link expiry of existing reports', true);
UPDATE events.reports SET share_expires_at = created_at + interval '30 days';
SELECT set_config('platform.system', '', true);
ALTER TABLE events.reports ALTER COLUMN share_expires_at SET NOT NULL;
