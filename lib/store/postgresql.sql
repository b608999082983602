-- PostgreSQL only, applied before every migration (lib/store/migrate.py), idempotent: the few DuckDB
-- names the schema and the store's queries use, defined once in PostgreSQL's words so that the same
-- statement runs on both engines. A query whose wording really differs is a `sql.Dialects` instead.

-- DuckDB's BLOB is PostgreSQL's BYTEA.
DO $$ BEGIN
    CREATE DOMAIN blob AS bytea;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

-- regexp_extract(text, pattern, group): the group'th parenthesised group of the first match, '' if none
-- (NULL for a NULL text, as DuckDB: migration 009's coalesce relies on it).
CREATE OR REPLACE FUNCTION regexp_extract(s text, pattern text, grp integer) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN s IS NOT NULL THEN coalesce((regexp_match(s, pattern))[grp], '') END $$;

-- list_contains(list, value): DuckDB's list membership, PostgreSQL's `= ANY`.
CREATE OR REPLACE FUNCTION list_contains(list anycompatiblearray, value anycompatible) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT value = ANY(list) $$;

-- list(x [ORDER BY …]): DuckDB's list aggregate, PostgreSQL's array_agg (NULL for no row, as DuckDB).
DO $$ BEGIN
    CREATE AGGREGATE list (anycompatible) (SFUNC = array_append, STYPE = anycompatiblearray);
EXCEPTION WHEN duplicate_function THEN NULL;
END $$;

-- strftime(moment, format): the few strftime codes the store writes (%d %m %Y %H %M %S) as to_char's.
CREATE OR REPLACE FUNCTION strftime(moment timestamp, format text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT to_char(moment, replace(replace(replace(replace(replace(replace(format,
             '%d', 'DD'), '%m', 'MM'), '%Y', 'YYYY'), '%H', 'HH24'), '%M', 'MI'), '%S', 'SS')) $$;
CREATE OR REPLACE FUNCTION strftime(day date, format text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT strftime(day::timestamp, format) $$;

-- a // b: DuckDB's integer division (PostgreSQL's `/` between integers).
DO $$ BEGIN
    CREATE OPERATOR // (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = int8div);
EXCEPTION WHEN duplicate_function THEN NULL;
END $$;

-- strip_accents(text): DuckDB's, the letters without their combining accents (é → e, ç → c).
CREATE OR REPLACE FUNCTION strip_accents(s text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT regexp_replace(normalize(s, NFD), '[\u0300-\u036f]', '', 'g') $$;

-- contains(text, part): DuckDB's substring test.
CREATE OR REPLACE FUNCTION contains(s text, part text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT strpos(s, part) > 0 $$;

-- try_integer(text) / try_jsonb(text): DuckDB's TRY_CAST(… AS INTEGER) / TRY_CAST(… AS JSON), NULL
-- where the text is not one.
CREATE OR REPLACE FUNCTION try_integer(s text) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN s ~ '^\s*[+-]?[0-9]{1,18}\s*$' THEN s::bigint END $$;
CREATE OR REPLACE FUNCTION try_jsonb(s text) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$ BEGIN RETURN s::jsonb; EXCEPTION WHEN others THEN RETURN NULL; END $$;

-- any_value(x): DuckDB's (PostgreSQL 16's) aggregate: some non-NULL value of the group.
CREATE OR REPLACE FUNCTION portail_any_value_step(kept anycompatible, x anycompatible) RETURNS anycompatible
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT coalesce(kept, x) $$;
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'any_value') THEN
        CREATE AGGREGATE any_value (anycompatible) (SFUNC = portail_any_value_step, STYPE = anycompatible);
    END IF;
END $$;
