-- One schema per product area (the comments name them). ops.schema_migrations itself is created by the runner.
CREATE SCHEMA IF NOT EXISTS core;        -- tenancy and messaging
CREATE SCHEMA IF NOT EXISTS governance;  -- consent, approvals, provenance, audit, privacy
CREATE SCHEMA IF NOT EXISTS community;   -- Convener
CREATE SCHEMA IF NOT EXISTS civic;       -- CouncilSense
CREATE SCHEMA IF NOT EXISTS impact;      -- TEEI CSR
CREATE SCHEMA IF NOT EXISTS events;      -- Conference intelligence

-- Append-only tables attach this trigger: history is evidence, so it is never rewritten.
CREATE OR REPLACE FUNCTION ops.reject_mutation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% on %.% is not allowed: the table is append-only', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'raise_exception';
END $$;
