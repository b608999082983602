-- E-mail that is never lost: every message is first a row of `outbox`, written in the same
-- transaction as the change it reports, then sent by the server's mail worker
-- (lib/services/mail_worker.py) with retries. No index on state/not_before: DuckDB rewrites an
-- indexed row on update, and the due query scans one small table in the worker's thread.
CREATE SEQUENCE seq_outbox START 1;
CREATE TABLE outbox (
    id            BIGINT PRIMARY KEY DEFAULT nextval('seq_outbox'),
    kind          VARCHAR NOT NULL CHECK (kind IN ('invitation', 'password_reset', 'email_change',
                  'email_changed_notice', 'password_changed', 'booking_receipt', 'waiting_place', 'closure',
                  'invoice_published', 'payment_receipt', 'unpaid_reminder', 'test')),
    message_id    VARCHAR NOT NULL UNIQUE,   -- '<...@domain>', made when queued, the same on every try
    dedupe_key    VARCHAR UNIQUE,            -- one message per key ever (a replayed notification sends once)
    merge_key     VARCHAR,                   -- later changes join a waiting message with this key
    family_id     INTEGER,
    user_id       INTEGER,
    to_address    VARCHAR NOT NULL,
    to_name       VARCHAR NOT NULL,
    subject       VARCHAR NOT NULL,
    body_text     VARCHAR,
    body_html     VARCHAR,
    payload       VARCHAR NOT NULL,          -- JSON: what the letter was built from (to merge, to re-render)
    secret_link   BOOLEAN NOT NULL DEFAULT FALSE,  -- carries a one-time link: never shown, redacted once sent
    state         VARCHAR NOT NULL CHECK (state IN ('waiting', 'sending', 'sent', 'failed', 'cancelled')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_at    TIMESTAMP NOT NULL,        -- UTC: the moment of the change (the Date: header)
    not_before    TIMESTAMP NOT NULL,        -- UTC: the next try
    claimed_until TIMESTAMP,
    sent_at       TIMESTAMP,
    last_error    VARCHAR,                   -- French, never a secret
    smtp_reply    VARCHAR,                   -- the server's answer when it took the message
    created_by    INTEGER,
    audit_id      BIGINT,                    -- the audit entry of the change: the reference a family quotes
    resent_from   BIGINT
);
CREATE INDEX idx_outbox_family ON outbox (family_id);

-- A family account's choices of optional messages; no row: the kind's default (wanted).
CREATE TABLE mail_preferences (
    user_id    INTEGER NOT NULL,
    kind       VARCHAR NOT NULL,
    wanted     BOOLEAN NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, kind)
);
