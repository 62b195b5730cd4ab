-- Email: where a person receives mail, when (time zone, digest schedule, quiet hours), and how a tenant's mail looks.

-- One row per person who set anything; without a row a person has no email address, UTC, no digest, no quiet hours.
-- email_status turns 'disabled' when the receiving server refuses the address for good (a 5xx to RCPT TO):
-- nothing more is sent to it until the person sets an address again.
CREATE TABLE ops.notification_profiles (
  tenant_id          uuid        NOT NULL,
  user_id            text        NOT NULL CHECK (length(user_id) BETWEEN 1 AND 200),
  email              text        CHECK (length(email) BETWEEN 3 AND 254),
  email_status       text        NOT NULL DEFAULT 'active' CHECK (email_status IN ('active', 'disabled')),
  email_reason       text,
  email_disabled_at  timestamptz,
  time_zone          text        NOT NULL DEFAULT 'UTC' CHECK (length(time_zone) BETWEEN 1 AND 64),
  digest             text        NOT NULL DEFAULT 'off' CHECK (digest IN ('off', 'daily', 'weekly')),
  digest_time        time        NOT NULL DEFAULT '08:00',
  digest_weekday     smallint    NOT NULL DEFAULT 1 CHECK (digest_weekday BETWEEN 1 AND 7),
  quiet_start        time,
  quiet_end          time,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id),
  CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);

-- How a tenant's email looks: the name in the header and From, an accent colour, a footer line.
CREATE TABLE ops.notification_branding (
  tenant_id     uuid        PRIMARY KEY,
  display_name  text        NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
  accent_color  text        NOT NULL DEFAULT '#1f6feb' CHECK (accent_color ~ '^#[0-9a-f]{6}$'),
  footer        text        CHECK (length(footer) <= 500),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Row-level security for these tables is installed by 0232 (ops.protect_tenant_table is created by 0201).
