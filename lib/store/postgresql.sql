-- PostgreSQL only, applied before every migration (lib/store/migrate.py), idempotent: the few DuckDB
-- names the schema and the store's queries use, defined once in PostgreSQL's words so that the same
-- statement runs on both engines. A query whose wording really differs is a `sql.Dialects` instead.

-- DuckDB's BLOB is PostgreSQL's BYTEA.
DO $$ BEGIN
    CREATE DOMAIN blob AS bytea;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

-- regexp_extract(text, pattern, group): the group'th parenthesised group of the first match, '' if none.
CREATE OR REPLACE FUNCTION regexp_extract(s text, pattern text, grp integer) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT coalesce((regexp_match(s, pattern))[grp], '') $$;
