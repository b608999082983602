-- Issue 16, the cash desk (« régie »): a staff account may hold the régisseur right (granted by the
-- administrator), and each payment received at the town hall, or its cancellation, has a receipt.
-- A receipt names the ledger row it acknowledges (payments, migration 014): the money stays in the
-- ledger, the receipt keeps what the régisseur saw (payer, bank, cheque, CESU, transfer reference).
ALTER TABLE users ADD COLUMN regisseur BOOLEAN NOT NULL DEFAULT FALSE;

CREATE SEQUENCE seq_cash_receipts START 1;
CREATE TABLE cash_receipts (
    id              INTEGER PRIMARY KEY DEFAULT nextval('seq_cash_receipts'),
    number          VARCHAR NOT NULL UNIQUE,      -- R-2026-000001, or the paper receipt book's number
    year            INTEGER NOT NULL,
    seq             INTEGER,                      -- in the year's gapless sequence; NULL: a paper book's number
    payment_id      INTEGER NOT NULL UNIQUE,      -- the ledger row (a payment or its counter-entry)
    payer_name      VARCHAR NOT NULL,             -- who handed the money over
    bank            VARCHAR,                      -- a cheque's bank
    cheque_number   VARCHAR,
    drawer          VARCHAR,                      -- a cheque's drawer (« tireur »)
    cesu_count      INTEGER CHECK (cesu_count > 0),
    transfer_ref    VARCHAR,
    idempotency_key VARCHAR NOT NULL UNIQUE,      -- one form submitted twice records once
    issued_at       TIMESTAMP NOT NULL,
    issued_by       INTEGER NOT NULL,
    UNIQUE (year, seq)
);
