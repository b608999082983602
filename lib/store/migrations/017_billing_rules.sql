-- Issue 16's billing rules: a child present without a booking, a PAI packed lunch, a non-resident
-- price, and tariffs dated by the council's decision.

-- The service's base tariff (in force before its first decision) gets its other prices: a day a child
-- was present without a booking (NULL: not billed; the normal price by default), a PAI packed lunch
-- (NULL: billed as a meal until the town sets its price), a family living outside the town (NULL: the QF
-- grid applies to them too).
ALTER TABLE services ADD COLUMN unbooked_price_cents INTEGER;
UPDATE services SET unbooked_price_cents = unit_price_cents;
ALTER TABLE services ADD COLUMN basket_price_cents INTEGER;
ALTER TABLE services ADD COLUMN non_resident_price_cents INTEGER;

-- « Hors commune »: the family lives outside the town (non-resident price).
ALTER TABLE families ADD COLUMN non_resident BOOLEAN DEFAULT FALSE;

-- A council decision (délibération) setting a service's prices from a date: every day on or after
-- it (until the next one) is priced by it. Kept forever: the history of a service's prices.
CREATE TABLE tariff_decisions (
    service_id               INTEGER NOT NULL,
    valid_from               DATE NOT NULL,
    reference                VARCHAR,          -- « Délibération n° 2026-45 du 12 novembre 2026 »
    unit_price_cents         INTEGER NOT NULL CHECK (unit_price_cents >= 0),
    unbooked_price_cents     INTEGER CHECK (unbooked_price_cents >= 0),
    basket_price_cents       INTEGER CHECK (basket_price_cents >= 0),
    non_resident_price_cents INTEGER CHECK (non_resident_price_cents >= 0),
    created_by               INTEGER,
    created_at               TIMESTAMP NOT NULL,  -- UTC
    PRIMARY KEY (service_id, valid_from)
);

-- A decision's QF brackets (the same rule as `tariffs`, the base grid).
CREATE TABLE tariff_decision_brackets (
    service_id  INTEGER NOT NULL,
    valid_from  DATE NOT NULL,
    qf_max      INTEGER,
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    UNIQUE (service_id, valid_from, qf_max)
);

-- What an invoice line bills (lib.domain.invoicing.LineKind: a booked day, a day present without a
-- booking, a PAI packed lunch) and at which decision's prices (NULL: the base tariff). A month's
-- later run matches what it counts with what was billed by (child, service, kind, decision).
ALTER TABLE invoice_lines ADD COLUMN line_kind VARCHAR DEFAULT 'meal';
ALTER TABLE invoice_lines ADD COLUMN tariff_from DATE;

-- The minimum for public recovery (seuil de mise en recouvrement, art. D1611-1 CGCT): a payer's
-- document of a month below it is not issued; its lines wait here, carried over, and the payer's
-- next issued invoice bills them (« Report de octobre 2026 : … ») and settles them. Amounts are
-- frozen when carried: carrying never re-prices nor loses a cent.
CREATE TABLE carried_lines (
    family_id          INTEGER NOT NULL,
    payer_guardian_id  INTEGER,
    period_month       DATE NOT NULL,            -- the month they bill
    line_no            INTEGER NOT NULL,
    child_id           INTEGER NOT NULL,
    service_id         INTEGER NOT NULL,
    label              VARCHAR NOT NULL,         -- as the invoice will print it: « Report de octobre 2026 : … »
    quantity           INTEGER NOT NULL,
    unit_price_cents   INTEGER NOT NULL,
    amount_cents       INTEGER NOT NULL,
    counted            BOOLEAN NOT NULL,
    share_percent      INTEGER,
    line_kind          VARCHAR NOT NULL,
    tariff_from        DATE,
    carried_at         TIMESTAMP NOT NULL,       -- UTC
    settled_invoice_id INTEGER                   -- the invoice that billed them (NULL: still carried)
);

-- A line an invoice bills for an earlier month it carried (NULL: its invoice's own month).
ALTER TABLE invoice_lines ADD COLUMN carried_from DATE;
