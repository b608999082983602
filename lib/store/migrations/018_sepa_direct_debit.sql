-- Issue 16, SEPA direct debit. A family's payer guardian signs a mandate (its RUM is ours, made from
-- its id); a revoked mandate keeps its row (`ends_on`): the history of mandates stays. Each month's
-- run is one pain.008 file, kept whole with its message id and SHA-256; a debit is one invoice in a
-- run (an invoice is debited in one run at most: UNIQUE). On its collection date the debit is
-- collected: its `prelevement` payment (a row of `sepa_collections`, never an update). A reject is its
-- own row (at most one per debit), naming the counter-entry that re-opened the invoice when the
-- money had been collected (none for a reject before the collection date).
-- The outbox's `kind` CHECK gains the two direct-debit letters: DuckDB cannot change a CHECK, hence
-- the table copied over (as 006 does for services).
CREATE SEQUENCE seq_sepa_mandates START 1;
CREATE TABLE sepa_mandates (
    id           INTEGER PRIMARY KEY DEFAULT nextval('seq_sepa_mandates'),
    family_id    INTEGER NOT NULL,
    guardian_id  INTEGER NOT NULL,             -- the payer guardian who signed: debits his invoices
    rum          VARCHAR NOT NULL UNIQUE,      -- « référence unique du mandat »
    signed_on    DATE NOT NULL,
    debtor_name  VARCHAR NOT NULL,
    iban         VARCHAR NOT NULL,             -- compact, checked
    bic          VARCHAR NOT NULL,
    notice_days  INTEGER,                      -- its own pre-notification delay; NULL: the town's
    ends_on      DATE,                         -- revoked: no collection on or after this day
    created_at   TIMESTAMP NOT NULL,
    created_by   INTEGER,
    ended_at     TIMESTAMP,
    ended_by     INTEGER
);
CREATE INDEX idx_sepa_mandates_family ON sepa_mandates (family_id);

CREATE SEQUENCE seq_sepa_runs START 1;
CREATE TABLE sepa_runs (
    id              INTEGER PRIMARY KEY DEFAULT nextval('seq_sepa_runs'),
    period_month    DATE NOT NULL,             -- the billed month whose invoices it collects
    collection_date DATE NOT NULL,
    message_id      VARCHAR NOT NULL UNIQUE,
    sha256          VARCHAR NOT NULL,
    file            BLOB NOT NULL,             -- the pain.008 as handed to the bank
    total_cents     INTEGER NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    created_by      INTEGER
);

CREATE SEQUENCE seq_sepa_debits START 1;
CREATE TABLE sepa_debits (
    id            INTEGER PRIMARY KEY DEFAULT nextval('seq_sepa_debits'),
    run_id        INTEGER NOT NULL,
    invoice_id    INTEGER NOT NULL UNIQUE,     -- never debited twice
    mandate_id    INTEGER NOT NULL,
    sequence_type VARCHAR NOT NULL CHECK (sequence_type IN ('FRST', 'RCUR')),
    amount_cents  INTEGER NOT NULL CHECK (amount_cents > 0),
    end_to_end_id VARCHAR NOT NULL UNIQUE
);

CREATE TABLE sepa_collections (
    debit_id   INTEGER PRIMARY KEY,            -- a debit is collected once
    payment_id INTEGER NOT NULL UNIQUE         -- its `prelevement` payment, dated the collection date
);

CREATE TABLE sepa_rejects (
    debit_id           INTEGER PRIMARY KEY,    -- a debit is rejected once
    code               VARCHAR NOT NULL,       -- ISO reason code: AM04, MD01…
    reason             VARCHAR NOT NULL,       -- « AM04 – Provision insuffisante »
    counter_payment_id INTEGER UNIQUE,         -- NULL: rejected before it was collected
    source             VARCHAR NOT NULL CHECK (source IN ('saisie', 'fichier')),
    rejected_at        TIMESTAMP NOT NULL,
    recorded_by        INTEGER
);

CREATE TABLE outbox_018 (
    id            BIGINT PRIMARY KEY DEFAULT nextval('seq_outbox'),
    kind          VARCHAR NOT NULL CHECK (kind IN ('invitation', 'password_reset', 'email_change',
                  'email_changed_notice', 'password_changed', 'booking_receipt', 'waiting_place', 'closure',
                  'invoice_published', 'payment_receipt', 'unpaid_reminder', 'direct_debit_notice',
                  'direct_debit_rejected', 'test')),
    message_id    VARCHAR NOT NULL UNIQUE,
    dedupe_key    VARCHAR UNIQUE,
    merge_key     VARCHAR,
    family_id     INTEGER,
    user_id       INTEGER,
    to_address    VARCHAR NOT NULL,
    to_name       VARCHAR NOT NULL,
    subject       VARCHAR NOT NULL,
    body_text     VARCHAR,
    body_html     VARCHAR,
    payload       VARCHAR NOT NULL,
    secret_link   BOOLEAN NOT NULL DEFAULT FALSE,
    state         VARCHAR NOT NULL CHECK (state IN ('waiting', 'sending', 'sent', 'failed', 'cancelled')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_at    TIMESTAMP NOT NULL,
    not_before    TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    sent_at       TIMESTAMP,
    last_error    VARCHAR,
    smtp_reply    VARCHAR,
    created_by    INTEGER,
    audit_id      BIGINT,
    resent_from   BIGINT
);
INSERT INTO outbox_018 SELECT * FROM outbox;
DROP INDEX idx_outbox_family;
DROP TABLE outbox;
ALTER TABLE outbox_018 RENAME TO outbox;
CREATE INDEX idx_outbox_family ON outbox (family_id);
