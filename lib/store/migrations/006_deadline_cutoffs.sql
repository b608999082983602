-- Each deadline rule has its own cut-off hour, as lib/domain/deadlines.py's DeadlineRule does: the
-- booking rule (book_*) and the cancellation rule (cancel_*) each keep their days, whether they are
-- working days, and their cut-off. The one cutoff_time served both: it goes to both, so every
-- service keeps its deadlines. These column defaults are the seed's rules (7 calendar days, 2
-- working days, 23:59) and the only place they are written down. The 0–60 bound on the days is the
-- domain's alone (MAX_DELAY_DAYS): the table no longer repeats it.
-- DuckDB can neither drop a CHECK nor add a NOT NULL column, hence a new table copied over.
CREATE TABLE services_006 (
    id                   INTEGER PRIMARY KEY DEFAULT nextval('seq_services'),
    code                 VARCHAR NOT NULL UNIQUE,
    name                 VARCHAR NOT NULL UNIQUE,
    short_name           VARCHAR NOT NULL,           -- fits a calendar cell on a phone: "Cantine"
    weekdays             VARCHAR NOT NULL,           -- ISO weekdays offered: '1,2,4,5'
    unit_price_cents     INTEGER NOT NULL CHECK (unit_price_cents >= 0),
    is_meal              BOOLEAN NOT NULL,           -- counted by the kitchen
    book_delay_days      INTEGER NOT NULL DEFAULT 7,
    book_delay_working   BOOLEAN NOT NULL DEFAULT FALSE,   -- FALSE: calendar days
    book_cutoff_time     TIME NOT NULL DEFAULT TIME '23:59',
    cancel_delay_days    INTEGER NOT NULL DEFAULT 2,
    cancel_delay_working BOOLEAN NOT NULL DEFAULT TRUE,    -- TRUE: jours ouvrés
    cancel_cutoff_time   TIME NOT NULL DEFAULT TIME '23:59',
    sort_order           INTEGER NOT NULL DEFAULT 0
);
INSERT INTO services_006
SELECT id, code, name, short_name, weekdays, unit_price_cents, is_meal,
       book_delay_days, book_delay_working, cutoff_time,
       cancel_delay_days, cancel_delay_working, cutoff_time,
       sort_order
FROM services;
DROP TABLE services;
ALTER TABLE services_006 RENAME TO services;
