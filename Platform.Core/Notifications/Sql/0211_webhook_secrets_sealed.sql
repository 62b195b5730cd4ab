-- Webhook signing secrets at rest: sealed with the vault key (AES-GCM, a key derived from Platform:Impact:MasterKey
-- for this purpose, the endpoint id as associated data) in secret_enc; the plaintext column is emptied. The migration
-- cannot seal (it has no key): the Api seals every remaining plaintext secret when it starts, right after the
-- migrations (WebhookSecrets.SealStoredAsync), and until then a delivery still signs with the plaintext one.
ALTER TABLE ops.webhook_endpoints ADD COLUMN secret_enc bytea;
ALTER TABLE ops.webhook_endpoints ALTER COLUMN secret DROP NOT NULL;
ALTER TABLE ops.webhook_endpoints ADD CONSTRAINT webhook_endpoints_secret_kept CHECK (secret IS NOT NULL OR secret_enc IS NOT NULL);
