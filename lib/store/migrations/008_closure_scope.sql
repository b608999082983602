-- A closure (or a strike, or a « pont ») covers a site or every site, and a service or every
-- service; it says who declared it and when, and a withdrawn one stays as history (the bookings it
-- cancelled stay cancelled). Closures written before 008 were all plain closures of every service.
-- DuckDB can neither add a CHECK nor a NOT NULL column with ALTER, hence a new table copied over.
CREATE TABLE closures_008 (
    id           INTEGER PRIMARY KEY DEFAULT nextval('seq_closures'),
    site_id      INTEGER,      -- NULL: every site
    service_id   INTEGER,      -- NULL: every service
    start_date   DATE NOT NULL,
    end_date     DATE NOT NULL,
    reason       VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL DEFAULT 'fermeture' CHECK (kind IN ('fermeture', 'greve', 'pont')),
    created_by   INTEGER,      -- NULL: written before 008
    created_at   TIMESTAMP,    -- UTC; NULL: written before 008
    withdrawn_at TIMESTAMP,    -- UTC; NULL: in force
    CHECK (end_date >= start_date)
);
INSERT INTO closures_008 (id, site_id, service_id, start_date, end_date, reason, kind)
SELECT id, site_id, NULL, start_date, end_date, reason, 'fermeture' FROM closures;
DROP TABLE closures;
ALTER TABLE closures_008 RENAME TO closures;
