-- Rejected webhook calls are counted per (tenant, source, reason, address, hour) instead of one row per request, so an
-- unauthenticated flood costs an update of one counter; windows older than 30 days are pruned by a daily job.
ALTER TABLE impact.webhook_rejections ADD COLUMN window_start timestamptz;
ALTER TABLE impact.webhook_rejections ADD COLUMN attempts integer NOT NULL DEFAULT 1;
ALTER TABLE impact.webhook_rejections ADD COLUMN last_at timestamptz;
UPDATE impact.webhook_rejections SET window_start = date_trunc('hour', at), last_at = at;

WITH g AS (
    SELECT min(id) AS keep, count(*) AS n, max(at) AS last
      FROM impact.webhook_rejections GROUP BY tenant_id, source, reason, remote_ip, window_start
)
UPDATE impact.webhook_rejections r SET attempts = g.n, last_at = g.last FROM g WHERE r.id = g.keep;
DELETE FROM impact.webhook_rejections
 WHERE id NOT IN (SELECT min(id) FROM impact.webhook_rejections GROUP BY tenant_id, source, reason, remote_ip, window_start);

ALTER TABLE impact.webhook_rejections ALTER COLUMN window_start SET NOT NULL;
ALTER TABLE impact.webhook_rejections ALTER COLUMN last_at SET NOT NULL;
ALTER TABLE impact.webhook_rejections ALTER COLUMN last_at SET DEFAULT now();
CREATE UNIQUE INDEX webhook_rejections_window ON impact.webhook_rejections (tenant_id, source, reason, remote_ip, window_start) NULLS NOT DISTINCT;
