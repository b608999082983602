-- Portail Famille: baseline schema (version 1).
-- The one source of truth for the tables; later changes go to lib/store/migrations/NNN_*.sql.
-- Conventions: money in integer cents (*_cents); days as DATE; instants as TIMESTAMP in UTC
-- (naive); ids from sequences.
-- No FOREIGN KEY clauses: DuckDB refuses to UPDATE a row that another table references when
-- the row's table has a UNIQUE index besides its key (it rewrites the row as delete + insert),
-- which would forbid editing a service's deadlines or a user's status. The services check
-- references instead (and the tests check them), and bulk loads of millions of bookings pay no
-- lookup per row.

CREATE TABLE settings (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE TABLE school_years (
    id         INTEGER PRIMARY KEY,          -- the starting year: 2026 for 2026/2027
    label      VARCHAR NOT NULL UNIQUE,
    start_date DATE NOT NULL,
    end_date   DATE NOT NULL,
    CHECK (end_date > start_date)
);

CREATE SEQUENCE seq_sites START 1;
CREATE TABLE sites (
    id       INTEGER PRIMARY KEY DEFAULT nextval('seq_sites'),
    name     VARCHAR NOT NULL UNIQUE,
    kind     VARCHAR NOT NULL CHECK (kind IN ('maternelle', 'elementaire', 'mercredi')),
    address  VARCHAR,
    capacity INTEGER NOT NULL CHECK (capacity >= 0)   -- children the site can hold on one day
);

CREATE SEQUENCE seq_services START 1;
CREATE TABLE services (
    id                   INTEGER PRIMARY KEY DEFAULT nextval('seq_services'),
    code                 VARCHAR NOT NULL UNIQUE,
    name                 VARCHAR NOT NULL UNIQUE,
    short_name           VARCHAR NOT NULL,           -- fits a calendar cell on a phone: "Cantine"
    weekdays             VARCHAR NOT NULL,           -- ISO weekdays offered: '1,2,4,5'
    unit_price_cents     INTEGER NOT NULL CHECK (unit_price_cents >= 0),
    is_meal              BOOLEAN NOT NULL,           -- counted by the kitchen
    book_delay_days      INTEGER NOT NULL DEFAULT 7 CHECK (book_delay_days BETWEEN 0 AND 60),
    book_delay_working   BOOLEAN NOT NULL DEFAULT FALSE,   -- FALSE: calendar days
    cancel_delay_days    INTEGER NOT NULL DEFAULT 2 CHECK (cancel_delay_days BETWEEN 0 AND 60),
    cancel_delay_working BOOLEAN NOT NULL DEFAULT TRUE,    -- TRUE: jours ouvrés
    cutoff_time          TIME NOT NULL DEFAULT TIME '23:59',
    sort_order           INTEGER NOT NULL DEFAULT 0
);

-- Which services a site offers, and how many children it takes per day for each.
CREATE TABLE site_services (
    site_id    INTEGER NOT NULL,
    service_id INTEGER NOT NULL,
    capacity   INTEGER NOT NULL CHECK (capacity >= 0),
    PRIMARY KEY (site_id, service_id)
);

-- Tariff brackets by quotient familial (optional): the lowest bracket whose ceiling is at
-- least the family's QF applies; a NULL ceiling is the top bracket.
CREATE TABLE tariffs (
    service_id  INTEGER NOT NULL,
    qf_max      INTEGER,
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    UNIQUE (service_id, qf_max)
);

CREATE TABLE diets (
    code       VARCHAR PRIMARY KEY,
    label      VARCHAR NOT NULL UNIQUE,
    sort_order INTEGER NOT NULL DEFAULT 0
);

CREATE SEQUENCE seq_families START 1;
CREATE TABLE families (
    id                INTEGER PRIMARY KEY DEFAULT nextval('seq_families'),
    name              VARCHAR NOT NULL,                 -- "Famille Martin"
    email             VARCHAR,
    phone             VARCHAR,
    address           VARCHAR,
    quotient_familial INTEGER CHECK (quotient_familial >= 0),
    payment_right     VARCHAR NOT NULL DEFAULT 'none'
                      CHECK (payment_right IN ('none', 'requested', 'granted', 'refused')),
    payment_right_at  TIMESTAMP,
    created_at        TIMESTAMP NOT NULL
);

CREATE SEQUENCE seq_users START 1;
CREATE TABLE users (
    id            INTEGER PRIMARY KEY DEFAULT nextval('seq_users'),
    email         VARCHAR NOT NULL UNIQUE,          -- stored lower-case
    password_hash VARCHAR NOT NULL,                 -- argon2id
    role          VARCHAR NOT NULL CHECK (role IN ('famille', 'agent', 'cuisine', 'elu', 'admin')),
    family_id     INTEGER,
    display_name  VARCHAR NOT NULL,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TIMESTAMP NOT NULL,
    CHECK ((role = 'famille') = (family_id IS NOT NULL))
);

-- Server-side login sessions: the browser holds only a random token; we keep its hash.
CREATE TABLE sessions (
    token_hash   VARCHAR PRIMARY KEY,
    user_id      INTEGER NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);

-- Failed-login throttle, per key ('email:...' or 'ip:...').
CREATE TABLE login_throttle (
    key              VARCHAR PRIMARY KEY,
    failures         INTEGER NOT NULL,
    first_failure_at TIMESTAMP NOT NULL,
    locked_until     TIMESTAMP
);

CREATE SEQUENCE seq_children START 1;
CREATE TABLE children (
    id           INTEGER PRIMARY KEY DEFAULT nextval('seq_children'),
    family_id    INTEGER NOT NULL,
    first_name   VARCHAR NOT NULL,
    last_name    VARCHAR NOT NULL,
    birth_date   DATE NOT NULL,
    school_class VARCHAR NOT NULL,                  -- PS, MS, GS, CP, CE1, CE2, CM1, CM2
    diet_code    VARCHAR NOT NULL,
    health_notes VARCHAR                            -- PAI content, allergies: never shown to the kitchen
);

CREATE SEQUENCE seq_registrations START 1;
CREATE TABLE registrations (
    id             INTEGER PRIMARY KEY DEFAULT nextval('seq_registrations'),
    child_id       INTEGER NOT NULL,
    school_year_id INTEGER NOT NULL,
    site_id        INTEGER NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    UNIQUE (child_id, school_year_id, site_id)
);

CREATE TABLE registration_services (
    registration_id INTEGER NOT NULL,
    service_id      INTEGER NOT NULL,
    PRIMARY KEY (registration_id, service_id)
);

-- One child, one service, one day. Cancelling keeps the row (state 'cancelled') so the
-- history and the audit stay readable; 'waiting' is the waiting list of a full day.
CREATE TABLE bookings (
    child_id   INTEGER NOT NULL,
    service_id INTEGER NOT NULL,
    day        DATE NOT NULL,
    site_id    INTEGER NOT NULL,
    state      VARCHAR NOT NULL CHECK (state IN ('booked', 'cancelled', 'waiting')),
    origin     VARCHAR NOT NULL CHECK (origin IN ('template', 'occasional', 'staff', 'staff_late', 'import')),
    created_by INTEGER,
    created_at TIMESTAMP NOT NULL,
    updated_by INTEGER,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (child_id, service_id, day)
);

-- One row per (site, service, day) that a booking transaction touches. Writers bump its version
-- first, so two parents racing for the last place of a day conflict here: one of them retries
-- and then sees the other's booking (DuckDB's optimistic concurrency has no row locks).
CREATE TABLE booking_day_locks (
    site_id    INTEGER NOT NULL,
    service_id INTEGER NOT NULL,
    day        DATE NOT NULL,
    version    INTEGER NOT NULL,
    PRIMARY KEY (site_id, service_id, day)
);

CREATE TABLE attendance (
    child_id    INTEGER NOT NULL,
    service_id  INTEGER NOT NULL,
    day         DATE NOT NULL,
    site_id     INTEGER NOT NULL,
    status      VARCHAR NOT NULL CHECK (status IN ('present', 'absent', 'justified')),
    recorded_by INTEGER,
    recorded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (child_id, service_id, day)
);

-- The kitchen's production sheet each time it is printed or downloaded: the next sheet shows
-- what changed since.
CREATE SEQUENCE seq_kitchen_prints START 1;
CREATE TABLE kitchen_prints (
    id         INTEGER PRIMARY KEY DEFAULT nextval('seq_kitchen_prints'),
    day        DATE NOT NULL,
    printed_at TIMESTAMP NOT NULL,
    printed_by INTEGER,
    counts     VARCHAR NOT NULL        -- JSON: [[site, service, diet, meals], ...]
);

CREATE SEQUENCE seq_closures START 1;
CREATE TABLE closures (
    id         INTEGER PRIMARY KEY DEFAULT nextval('seq_closures'),
    site_id    INTEGER,      -- NULL: every site
    start_date DATE NOT NULL,
    end_date   DATE NOT NULL,
    reason     VARCHAR NOT NULL,
    CHECK (end_date >= start_date)
);

CREATE SEQUENCE seq_invoices START 1;
CREATE TABLE invoices (
    id           INTEGER PRIMARY KEY DEFAULT nextval('seq_invoices'),
    number       VARCHAR NOT NULL UNIQUE,          -- F-2026-000123 (AV- for a credit note), gapless per year
    year         INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    kind         VARCHAR NOT NULL DEFAULT 'invoice' CHECK (kind IN ('invoice', 'credit_note')),
    family_id    INTEGER NOT NULL,
    period_month DATE NOT NULL,                    -- first day of the billed month
    issue_date   DATE NOT NULL,
    due_date     DATE NOT NULL,
    total_cents  INTEGER NOT NULL,
    corrects_invoice_id INTEGER,                   -- a credit note points at what it corrects
    created_at   TIMESTAMP NOT NULL,
    UNIQUE (year, seq)
);

CREATE TABLE invoice_lines (
    invoice_id       INTEGER NOT NULL,
    line_no          INTEGER NOT NULL,
    child_id         INTEGER NOT NULL,
    service_id       INTEGER NOT NULL,
    label            VARCHAR NOT NULL,
    quantity         INTEGER NOT NULL,
    unit_price_cents INTEGER NOT NULL,
    amount_cents     INTEGER NOT NULL,
    PRIMARY KEY (invoice_id, line_no)
);

CREATE SEQUENCE seq_payment_transactions START 1;
-- One attempt to pay an invoice online. `transaction_ref` is the provider's transaction id (what
-- its answers carry); `idempotency_key` makes a double click on "Payer" reuse the attempt it
-- started; `form_fields` is the signed form sent to the provider (JSON), served again on reload.
CREATE TABLE payment_transactions (
    id              INTEGER PRIMARY KEY DEFAULT nextval('seq_payment_transactions'),
    invoice_id      INTEGER NOT NULL,
    family_id       INTEGER NOT NULL,
    provider        VARCHAR NOT NULL,
    transaction_ref VARCHAR NOT NULL UNIQUE,
    idempotency_key VARCHAR UNIQUE,
    amount_cents    INTEGER NOT NULL CHECK (amount_cents > 0),
    state           VARCHAR NOT NULL CHECK (state IN ('pending', 'paid', 'refused', 'cancelled', 'error', 'expired')),
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    form_fields     VARCHAR,
    provider_data   VARCHAR,
    provider_message VARCHAR
);

-- Bumped by every attempt to start paying an invoice: two attempts started at the same moment
-- conflict here, and the second, retried, sees the first one pending.
CREATE TABLE payment_locks (
    invoice_id INTEGER PRIMARY KEY,
    version    INTEGER NOT NULL
);

CREATE SEQUENCE seq_payments START 1;
CREATE TABLE payments (
    id             INTEGER PRIMARY KEY DEFAULT nextval('seq_payments'),
    invoice_id     INTEGER NOT NULL,
    amount_cents   INTEGER NOT NULL CHECK (amount_cents > 0),
    paid_at        TIMESTAMP NOT NULL,
    method         VARCHAR NOT NULL CHECK (method IN ('online', 'cheque', 'especes', 'virement', 'prelevement')),
    transaction_id INTEGER UNIQUE,                 -- one payment per provider transaction
    recorded_by    INTEGER
);

CREATE SEQUENCE seq_audit START 1;
CREATE TABLE audit_log (
    id         BIGINT PRIMARY KEY DEFAULT nextval('seq_audit'),
    logged_at  TIMESTAMP NOT NULL,
    user_id    INTEGER,                            -- NULL: the system or the payment provider
    action     VARCHAR NOT NULL,
    entity     VARCHAR NOT NULL,
    entity_id  VARCHAR,
    before     VARCHAR,                            -- JSON
    after      VARCHAR,                            -- JSON
    reason     VARCHAR
);

CREATE INDEX idx_bookings_day ON bookings (day);
CREATE INDEX idx_audit_entity ON audit_log (entity, entity_id);
CREATE INDEX idx_children_family ON children (family_id);
CREATE INDEX idx_invoices_family ON invoices (family_id);
