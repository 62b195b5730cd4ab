-- Provenance of a summary version: which model and prompt wrote it (null for the extractive summarizer) and why a
-- model-backed summary fell back to the extractive one. Evidence in a PDF names its page.
ALTER TABLE civic.summary_versions
    ADD COLUMN model text NULL,
    ADD COLUMN prompt_version text NULL,
    ADD COLUMN prompt text NULL,
    ADD COLUMN fallback_reason text NULL;

ALTER TABLE civic.claim_evidence
    ADD COLUMN page integer NULL CHECK (page >= 1);
