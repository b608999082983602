-- The family file: up to two guardians (« responsables ») per family, the town's own identifiers
-- (town_ref) for families and children, an archive date instead of any deletion, who is billed,
-- the quotient familial's history, emergency contacts and authorised pick-up people, the photo and
-- outing consents, the shares of a split bill, and the corrections a family proposes that wait for
-- the town hall's validation. Every existing family keeps its data: its accounts become its
-- guardians (rank by account id, at most two), its e-mail, phone and address go to guardian 1, its
-- quotient becomes the first line of its history.

-- families: a copy, for the CHECK on `billing` (DuckDB adds no CHECK by ALTER). Small table.
CREATE TABLE families_009 (
    id                INTEGER PRIMARY KEY DEFAULT nextval('seq_families'),
    name              VARCHAR NOT NULL,                 -- "Famille Martin"
    email             VARCHAR,                          -- legacy: read the billed guardian's
    phone             VARCHAR,                          -- legacy: guardians.phone
    address           VARCHAR,                          -- legacy: guardians.address
    quotient_familial INTEGER CHECK (quotient_familial >= 0),   -- the QF in force, cached from family_quotients
    payment_right     VARCHAR NOT NULL DEFAULT 'none'
                      CHECK (payment_right IN ('none', 'requested', 'granted', 'refused')),
    payment_right_at  TIMESTAMP,
    created_at        TIMESTAMP NOT NULL,
    town_ref          VARCHAR UNIQUE,                   -- the town's own file number (NULL allowed, many)
    archived_at       TIMESTAMP,
    billing           VARCHAR NOT NULL DEFAULT 'guardian1' CHECK (billing IN ('guardian1', 'guardian2', 'split'))
);
INSERT INTO families_009 (id, name, email, phone, address, quotient_familial, payment_right, payment_right_at,
                          created_at)
SELECT id, name, email, phone, address, quotient_familial, payment_right, payment_right_at, created_at FROM families;
DROP TABLE families;
ALTER TABLE families_009 RENAME TO families;

-- children: new columns only (ALTER keeps the table and its index; its rows are many more).
ALTER TABLE children ADD COLUMN town_ref VARCHAR;
ALTER TABLE children ADD COLUMN archived_at TIMESTAMP;
CREATE UNIQUE INDEX idx_children_ref ON children (town_ref);

CREATE SEQUENCE seq_guardians START 1;
CREATE TABLE guardians (
    id          INTEGER PRIMARY KEY DEFAULT nextval('seq_guardians'),
    family_id   INTEGER NOT NULL,
    rank        INTEGER NOT NULL CHECK (rank IN (1, 2)),
    first_name  VARCHAR NOT NULL,
    last_name   VARCHAR NOT NULL,
    email       VARCHAR,
    phone       VARCHAR,
    address     VARCHAR,
    user_id     INTEGER,                                -- the guardian's account, once there is one
    town_ref    VARCHAR,
    archived_at TIMESTAMP,
    UNIQUE (family_id, rank)
);
INSERT INTO guardians (family_id, rank, first_name, last_name, email, phone, address, user_id)
WITH accounts AS (
    SELECT u.*, row_number() OVER (PARTITION BY u.family_id ORDER BY u.id) AS rank
    FROM users u WHERE u.role = 'famille'
)
SELECT f.id, coalesce(a.rank, 1),
       coalesce(regexp_extract(trim(a.display_name), '^(.*\S)\s+\S+$', 1), ''),
       coalesce(regexp_extract(trim(a.display_name), '(\S+)$', 1), regexp_replace(f.name, '^Famille\s+', '')),
       CASE WHEN coalesce(a.rank, 1) = 1 THEN coalesce(f.email, a.email) ELSE a.email END,
       CASE WHEN coalesce(a.rank, 1) = 1 THEN f.phone END,
       CASE WHEN coalesce(a.rank, 1) = 1 THEN f.address END,
       a.id
FROM families f LEFT JOIN accounts a ON a.family_id = f.id AND a.rank <= 2;

CREATE SEQUENCE seq_family_quotients START 1;
CREATE TABLE family_quotients (
    id             INTEGER PRIMARY KEY DEFAULT nextval('seq_family_quotients'),
    family_id      INTEGER NOT NULL,
    qf             INTEGER NOT NULL CHECK (qf >= 0),
    valid_from     DATE NOT NULL,
    source         VARCHAR NOT NULL CHECK (source IN ('caf', 'msa', 'attestation', 'autre')),
    allocataire_no VARCHAR,
    recorded_by    INTEGER,                             -- NULL: carried over by this migration
    recorded_at    TIMESTAMP NOT NULL
);
INSERT INTO family_quotients (family_id, qf, valid_from, source, recorded_at)
SELECT id, quotient_familial, created_at::DATE, 'autre', created_at FROM families WHERE quotient_familial IS NOT NULL;

-- Emergency contacts and authorised pick-up people: one table, two flags; child_id NULL = every
-- child of the family.
CREATE SEQUENCE seq_contacts START 1;
CREATE TABLE contacts (
    id          INTEGER PRIMARY KEY DEFAULT nextval('seq_contacts'),
    family_id   INTEGER NOT NULL,
    child_id    INTEGER,
    name        VARCHAR NOT NULL,
    relation    VARCHAR NOT NULL,
    phone       VARCHAR NOT NULL,
    emergency   BOOLEAN NOT NULL,
    pickup      BOOLEAN NOT NULL,
    archived_at TIMESTAMP,
    CHECK (emergency OR pickup)
);

CREATE TABLE consents (
    family_id  INTEGER NOT NULL,
    child_id   INTEGER NOT NULL,
    kind       VARCHAR NOT NULL CHECK (kind IN ('photo', 'sorties')),
    granted    BOOLEAN NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    changed_by INTEGER NOT NULL,
    PRIMARY KEY (child_id, kind)
);

-- Shared custody: each guardian's share of a child's bill (data only; invoicing reads it later).
CREATE TABLE billing_shares (
    child_id    INTEGER NOT NULL,
    guardian_id INTEGER NOT NULL,
    percent     INTEGER NOT NULL CHECK (percent BETWEEN 0 AND 100),
    PRIMARY KEY (child_id, guardian_id)
);

-- What a family proposes and the town hall validates. `kind` already allows 'pai' (the child health
-- slice's), so that slice adds its kind without copying this table. One pending change per (family,
-- child, kind): a new proposal replaces the pending one (lib/store/families.propose).
CREATE SEQUENCE seq_pending_changes START 1;
CREATE TABLE pending_changes (
    id           INTEGER PRIMARY KEY DEFAULT nextval('seq_pending_changes'),
    family_id    INTEGER NOT NULL,
    child_id     INTEGER,
    kind         VARCHAR NOT NULL CHECK (kind IN ('qf', 'pai')),
    payload      VARCHAR,                               -- JSON
    submitted_by INTEGER NOT NULL,
    submitted_at TIMESTAMP NOT NULL,
    state        VARCHAR NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted', 'refused')),
    decided_by   INTEGER,
    decided_at   TIMESTAMP,
    note         VARCHAR
);
CREATE INDEX idx_pending_changes_family ON pending_changes (family_id);
