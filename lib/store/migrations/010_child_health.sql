-- A child's health (PAI: projet d'accueil individualisé) gets tables of its own, so that no query
-- on `children` can carry it by accident: the kitchen's, the exports', the journal's. Only
-- lib/store/health.py names them.
CREATE TABLE child_health (
    child_id     INTEGER PRIMARY KEY,
    has_pai      BOOLEAN NOT NULL DEFAULT FALSE,   -- a PAI is signed (doctor, school, family)
    allergies    VARCHAR,
    protocol     VARCHAR,                          -- what to do, and the emergency protocol
    meal_basket  BOOLEAN NOT NULL DEFAULT FALSE,   -- panier repas: the family brings the meal
    doctor_name  VARCHAR,
    doctor_phone VARCHAR,
    valid_until  DATE,                             -- NULL: no end date written on the PAI
    updated_by   INTEGER,                          -- NULL: moved here by this migration
    updated_at   TIMESTAMP NOT NULL                -- UTC
);

-- A change of a child's PAI proposed by its family, waiting for the staff. The payload (the whole
-- proposed record, JSON) is cleared once decided: what was accepted lives in child_health, what
-- was refused is not kept.
CREATE SEQUENCE seq_child_health_requests START 1;
CREATE TABLE child_health_requests (
    id           INTEGER PRIMARY KEY DEFAULT nextval('seq_child_health_requests'),
    child_id     INTEGER NOT NULL,
    payload      VARCHAR,
    submitted_by INTEGER NOT NULL,
    submitted_at TIMESTAMP NOT NULL,
    state        VARCHAR NOT NULL CHECK (state IN ('pending', 'accepted', 'refused')),
    decided_by   INTEGER,
    decided_at   TIMESTAMP,
    note         VARCHAR                           -- the staff's word to the family
);
CREATE INDEX idx_child_health_requests_child ON child_health_requests (child_id);

-- The free-text notes move into the protocol. DuckDB refuses to drop a column of a table that has
-- an index (idx_children_family), and copying `children` would fight the family files' own
-- migration of it: the column stays, emptied, and nothing reads or writes it any more.
INSERT INTO child_health (child_id, has_pai, protocol, updated_at)
SELECT id, TRUE, health_notes, now() AT TIME ZONE 'UTC' FROM children WHERE nullif(trim(health_notes), '') IS NOT NULL;
UPDATE children SET health_notes = NULL WHERE health_notes IS NOT NULL;
