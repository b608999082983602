-- Issue 16: the payments table becomes a ledger. A payment is never edited nor deleted: a mistake at
-- the cash desk or a rejected direct debit is undone by a counter-entry, a row of the opposite
-- amount that names the payment it cancels (at most once) and says why. CESU joins the means.
-- DuckDB can neither drop a CHECK nor add one, hence a new table copied over.
CREATE TABLE payments_014 (
    id                 INTEGER PRIMARY KEY DEFAULT nextval('seq_payments'),
    invoice_id         INTEGER NOT NULL,
    amount_cents       INTEGER NOT NULL,
    paid_at            TIMESTAMP NOT NULL,
    method             VARCHAR NOT NULL
                       CHECK (method IN ('online', 'cheque', 'especes', 'cesu', 'virement', 'prelevement')),
    transaction_id     INTEGER UNIQUE,             -- one payment per provider transaction
    recorded_by        INTEGER,
    cancels_payment_id INTEGER UNIQUE,             -- a counter-entry: the payment it cancels
    reason             VARCHAR,                    -- why it was cancelled (a counter-entry only)
    CHECK ((cancels_payment_id IS NULL AND amount_cents > 0 AND reason IS NULL)
        OR (cancels_payment_id IS NOT NULL AND amount_cents < 0 AND reason IS NOT NULL))
);
INSERT INTO payments_014 (id, invoice_id, amount_cents, paid_at, method, transaction_id, recorded_by)
SELECT id, invoice_id, amount_cents, paid_at, method, transaction_id, recorded_by FROM payments;
DROP TABLE payments;
ALTER TABLE payments_014 RENAME TO payments;
