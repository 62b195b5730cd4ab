-- Received domain-event envelopes carry personal data (names, e-mails, notes). From now on they are stored sealed
-- (envelope_enc, AES-GCM under a key derived from the impact master key, bound to the tenant) with the connector ids
-- they name (person_refs, so export and erasure find them), and dropped once applied.
ALTER TABLE impact.domain_events ALTER COLUMN envelope DROP NOT NULL;
ALTER TABLE impact.domain_events ADD COLUMN envelope_enc bytea;
ALTER TABLE impact.domain_events ADD COLUMN person_refs text[] NOT NULL DEFAULT '{}';

-- Applied events no longer need their body.
UPDATE impact.domain_events SET envelope = NULL WHERE processed_at IS NOT NULL;

-- Rows still waiting keep their plaintext until applied (SQL cannot seal them); they get their person links now.
UPDATE impact.domain_events
   SET person_refs = ARRAY(SELECT DISTINCT v FROM jsonb_each_text(envelope -> 'data') AS d(k, v)
                            WHERE k IN ('personId', 'participantId', 'buddyId', 'fromId', 'toId', 'volunteerId') AND v <> '')
 WHERE processed_at IS NULL AND envelope IS NOT NULL;

CREATE INDEX domain_events_pending_refs ON impact.domain_events USING gin (person_refs) WHERE processed_at IS NULL;
