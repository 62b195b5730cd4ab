-- Direct Line uploads get an owner, a quota and a retention: who uploaded a file (for erasure of that user's files),
-- and indexes for the per-tenant quota sum and the pruning of expired files.
ALTER TABLE core.directline_uploads ADD COLUMN uploaded_by text;
CREATE INDEX directline_uploads_uploader ON core.directline_uploads (tenant_id, uploaded_by);
CREATE INDEX directline_uploads_created ON core.directline_uploads (created_at);
