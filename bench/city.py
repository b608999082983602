"""A deterministic city for the benchmark: the demo town's rules at 400, 50,000 or 140,000 children.

Everything is set-based: the reference tables go in as small DataFrames, and the families,
children, registrations, bookings (a full previous school year and the current one) and the
attendance of the past days are each ONE `INSERT … SELECT` over `range()`, with every choice taken
from `hash()` of the row's key (so the same scale and date always give the same city, on the same
DuckDB version). The service days come from the domain's school calendar, so no booking falls on
a closed day; each site's capacity is the number of children registered there, so no day is over
capacity.

On PostgreSQL (`make bench ENGINE=postgresql`), `build_city_on_server` builds the same city in
DuckDB first, then copies it table by table into the server's database with COPY (each table
exported as CSV by DuckDB, streamed to PostgreSQL): the very same rows, so the two engines'
figures answer the same questions over the same data, not over two different draws.

Command line (used by `make bench`):
    python -m bench.city --scale city --path /tmp/city.duckdb [--today YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import json
import sys
import time as clock
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import duckdb
import pandas as pd
import psycopg
from psycopg import sql as pgsql

from lib.domain.calendar import Closure, SchoolCalendar
from lib.domain.clock import PARIS, to_utc_naive
from lib.domain.errors import DatabaseUnavailable
from lib.domain.school_year import current_and_previous
from lib.services.auth import hash_password
from lib.services.demo_marks import DEMO_PASSWORD, SANDBOX_OPTIONS
from lib.store import families as families_store
from lib.store import health
from lib.store.bulk import continue_sequences, insert_frame
from lib.store.db import Database, connect
from lib.store.migrate import migrate
from lib.tools import demo


@dataclass(frozen=True)
class Scale:
    name: str
    children: int
    maternelle_sites: int
    elementaire_sites: int
    mercredi_sites: int

    @property
    def sites(self) -> int:
        return self.maternelle_sites + self.elementaire_sites + self.mercredi_sites


SCALES = {
    "town": Scale("town", 400, 1, 1, 1),
    "city": Scale("city", 50_000, 45, 45, 10),
    "paris": Scale("paris", 140_000, 126, 126, 28),
}
CHILDREN_PER_FAMILY = 1.62  # 50 % one child, 38 % two, 12 % three
DIETS = [  # code, label, sort order, share (per thousand, cumulative below)
    ("standard", "Standard", 1, 700),
    ("sans_porc", "Sans porc", 2, 130),
    ("vegetarien", "Végétarien", 3, 90),
    ("sans_viande", "Sans viande", 4, 40),
    ("sans_gluten", "Sans gluten", 5, 20),
    ("pai_panier", "PAI panier-repas", 6, 20),
]
CITY = "Ville de Garonne-Métropole (banc d'essai)"
PASSWORD = DEMO_PASSWORD
STAFF = demo.STAFF  # the same four staff accounts (ids 1–4), so the bench logs in as in the demo


class BadScale(ValueError):
    """An unknown scale name (the message is in French, for the command line)."""


def scale_named(name: str | None) -> Scale:
    key = (name or "city").strip().lower()
    if key not in SCALES:
        raise BadScale(f"Échelle inconnue : « {name} ». Choisissez parmi : {', '.join(SCALES)}.")
    return SCALES[key]


def family_email(family_id: int) -> str:
    return f"famille{family_id:06d}@bench.fr"


def build_city(path: str | Path, scale: Scale, today: date) -> dict[str, int]:
    """Build the city at `path` (a new file: refuses to overwrite one). Returns row counts."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"Le fichier « {path} » existe déjà : le banc d'essai construit toujours une base neuve.")
    db = Database(path)
    try:
        migrate(db)
        counts = db.write(lambda cur: _populate(cur, scale, today))
        db.cursor().execute("CHECKPOINT")
    finally:
        db.close()
    return counts


def build_city_on_server(url: str, scale: Scale, today: date, workdir: str | Path) -> dict[str, int]:
    """Build the city in a DuckDB file under `workdir`, then copy it into the PostgreSQL database
    `url` (any town already there is emptied first: its tables are truncated). Returns the row
    counts."""
    path = Path(workdir) / f"{scale.name}.duckdb"
    counts = build_city(path, scale, today)
    try:
        copy_to_server(path, url, Path(workdir))
    finally:
        path.unlink(missing_ok=True)
        Path(str(path) + ".wal").unlink(missing_ok=True)
    return counts


def copy_to_server(path: Path, url: str, workdir: Path) -> dict[str, int]:
    """Copy every row of the DuckDB file at `path` into the PostgreSQL database `url` (its schema
    made by the same migrations), in one transaction: tables in foreign-key order, each exported
    by DuckDB as CSV then COPYed; the id sequences continued after the ids copied; then VACUUM
    ANALYZE, as autovacuum leaves a database loaded long ago. Returns the rows copied per table."""
    server = connect(url)
    try:
        migrate(server)
    finally:
        server.close()
    source = duckdb.connect(str(path), read_only=True)
    copied: dict[str, int] = {}
    try:
        with psycopg.connect(url) as conn:
            filled = {t for (t,) in source.execute(_SOURCE_TABLES).fetchall()}
            tables = [t for t in _tables_in_order(conn) if t in filled and t != "schema_version"]
            every = pgsql.SQL(", ").join(pgsql.Identifier(t) for t in tables)
            conn.execute(pgsql.SQL("TRUNCATE {} CASCADE").format(every))
            for table in tables:
                columns = [c for (c,) in conn.execute(_TABLE_COLUMNS, [table]).fetchall()]
                copied[table] = _copy_table(source, conn, table, columns, workdir)
            for table, column, sequence in conn.execute(_SEQUENCE_COLUMNS).fetchall():
                conn.execute(
                    pgsql.SQL(_CONTINUE).format(
                        sequence=pgsql.Literal(sequence), column=pgsql.Identifier(column), table=pgsql.Identifier(table)
                    )
                )
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    finally:
        source.close()
    return copied


def _tables_in_order(conn: psycopg.Connection) -> list[str]:
    """The public tables, each after the tables its foreign keys name."""
    tables = [t for (t,) in conn.execute(_SERVER_TABLES).fetchall()]
    needs: dict[str, set[str]] = {t: set() for t in tables}
    for child, parent in conn.execute(_FOREIGN_KEYS).fetchall():
        if child in needs and parent in needs and child != parent:
            needs[child].add(parent)
    ordered: list[str] = []
    while needs:
        ready = sorted(t for t, parents in needs.items() if not parents - set(ordered))
        if not ready:
            raise RuntimeError(f"Cycle de clés étrangères entre : {', '.join(sorted(needs))}")
        ordered += ready
        for t in ready:
            del needs[t]
    return ordered


def _copy_table(
    source: duckdb.DuckDBPyConnection, conn: psycopg.Connection, table: str, columns: list[str], workdir: Path
) -> int:
    """One table: DuckDB writes its rows as CSV (a BLOB as PostgreSQL's hex text), PostgreSQL COPYs them."""
    kinds = dict(source.execute(_SOURCE_COLUMNS, [table]).fetchall())
    chosen = ", ".join(_HEX.format(c) if kinds.get(c) == "BLOB" else f'"{c}"' for c in columns)
    csv = workdir / f"{table}.csv"
    try:
        source.execute(f"COPY (SELECT {chosen} FROM \"{table}\") TO '{csv}' (FORMAT csv, HEADER false)")
        names = pgsql.SQL(", ").join(pgsql.Identifier(c) for c in columns)
        statement = pgsql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(pgsql.Identifier(table), names)
        with conn.cursor() as cur:
            with cur.copy(statement) as copy, csv.open("rb") as rows:
                while chunk := rows.read(1 << 20):
                    copy.write(chunk)
            return cur.rowcount
    finally:
        csv.unlink(missing_ok=True)


_HEX = "'\\x' || hex(\"{}\")"
_SOURCE_TABLES = "SELECT table_name FROM duckdb_tables() WHERE estimated_size > 0"
_SOURCE_COLUMNS = "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?"
_SERVER_TABLES = """SELECT table_name FROM information_schema.tables
                    WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"""
_TABLE_COLUMNS = """SELECT column_name FROM information_schema.columns
                    WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position"""
_FOREIGN_KEYS = "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint WHERE contype = 'f'"
# A column whose default draws from a sequence: the sequence continues after the ids copied.
_SEQUENCE_COLUMNS = r"""SELECT table_name, column_name, substring(column_default from 'nextval\(''([^'']+)''')
                        FROM information_schema.columns
                        WHERE table_schema = 'public' AND column_default LIKE 'nextval(%%'"""
_CONTINUE = "SELECT setval({sequence}, greatest(coalesce(max({column}), 0), 1), max({column}) IS NOT NULL) FROM {table}"


def _populate(cur, scale: Scale, today: date) -> dict[str, int]:
    now_utc = to_utc_naive(datetime.combine(today, time(6, 0), PARIS))
    current, previous = current_and_previous(today, demo.ZONE)
    years = [previous, current]
    # The demo's closures, its one-site training day made town-wide: it falls on a Wednesday,
    # when only the Wednesday sites open, so the calendar stays the same for every site.
    closures = [Closure(c.start, c.end, c.reason) for c in demo.training_days(years)]
    calendar = SchoolCalendar(zone=demo.ZONE, closures=tuple(closures))

    m, e, w = scale.maternelle_sites, scale.elementaire_sites, scale.mercredi_sites
    sites = [(i + 1, f"ALAE maternelle n° {i + 1}", "maternelle", f"{i + 1} rue des Écoles", 0) for i in range(m)]
    sites += [
        (m + i + 1, f"ALAE élémentaire n° {i + 1}", "elementaire", f"{i + 1} avenue du Savoir", 0) for i in range(e)
    ]
    sites += [
        (m + e + i + 1, f"Accueil du mercredi n° {i + 1}", "mercredi", f"{i + 1} place du Foirail", 0) for i in range(w)
    ]
    frames = {
        "settings": pd.DataFrame(
            [
                ("town_name", CITY),
                ("contact_email", "inscriptions@bench.fr"),
                ("holiday_zone", demo.ZONE),
                ("invoice_rule", "bookings"),
                ("invoice_due_days", "30"),
                ("bench_built_for", today.isoformat()),
                ("bench_scale", scale.name),
                ("payment_backend", "systempayv2"),
                ("payment_options", json.dumps(SANDBOX_OPTIONS)),
                ("payment_sandbox", "1"),
            ],
            columns=["key", "value"],
        ),
        "school_years": pd.DataFrame(
            [(y.start_year, y.label, y.start, y.end) for y in years], columns=["id", "label", "start_date", "end_date"]
        ),
        "sites": pd.DataFrame(sites, columns=["id", "name", "kind", "address", "capacity"]),
        "services": pd.DataFrame(
            demo.SERVICES,
            columns=["id", "code", "name", "short_name", "weekdays", "unit_price_cents", "is_meal", "sort_order"],
        ),
        "tariffs": pd.DataFrame(demo.TARIFFS, columns=["service_id", "qf_max", "price_cents"]).astype(
            {"qf_max": "Int64"}
        ),
        "diets": pd.DataFrame([d[:3] for d in DIETS], columns=["code", "label", "sort_order"]),
        "closures": pd.DataFrame(
            [(c.site_id, c.start, c.end, c.reason) for c in closures],
            columns=["site_id", "start_date", "end_date", "reason"],
        ).astype({"site_id": "Int64"}),
    }
    counts = {table: insert_frame(cur, table, frame) for table, frame in frames.items()}
    days = pd.DataFrame(
        [
            (y.start_year, service_id, d)
            for y in years
            for service_id, weekdays in ((1, (1, 2, 4, 5)), (2, (3,)), (3, (3,)))
            for d in calendar.service_days(weekdays, y.start, y.end)
        ],
        columns=["year_id", "service_id", "day"],
    )
    families = round(scale.children / CHILDREN_PER_FAMILY)
    params = {
        "families": families,
        "children": scale.children,
        "m": m,
        "e": e,
        "w": w,
        "now": now_utc,
        "today": today,
        "current": current.start_year,
        "last": demo.LAST,
        "first_f": demo.FIRST_F,
        "first_m": demo.FIRST_M,
        "parents": demo.PARENT_F + demo.PARENT_M,
        "streets": demo.STREETS,
        "levels": demo.LEVELS,
        "diets": [d[0] for d in DIETS],
        "diet_cuts": _cumulative([d[3] for d in DIETS]),
    }
    cur.execute(_MACROS)
    _families(cur, params)
    _children(cur, params)
    _users(cur, families, now_utc)
    families_store.guardians_from_accounts(cur)  # as migration 009 made them: invoices need their payer
    cur.register("_service_days", days)
    try:
        _registrations(cur, params, years)
        _bookings(cur, params)
    finally:
        cur.unregister("_service_days")
    counts["pai"] = _health(cur, current.start_year, now_utc)
    for table in ("families", "children", "users", "registrations", "registration_services", "bookings", "attendance"):
        counts[table] = cur.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    # Each site takes the children registered there (the busiest year), so no day is over capacity.
    cur.execute("""
        INSERT INTO site_services
        SELECT site_id, service_id, max(n) FROM (
            SELECT r.site_id, rs.service_id, r.school_year_id, count(*) AS n
            FROM registrations r JOIN registration_services rs ON rs.registration_id = r.id GROUP BY ALL
        ) GROUP BY ALL""")
    cur.execute(
        "UPDATE sites SET capacity = coalesce((SELECT max(capacity) FROM site_services ss "
        "WHERE ss.site_id = sites.id), 0)"
    )
    continue_sequences(cur)
    cur.execute(
        "INSERT INTO audit_log (logged_at, user_id, action, entity, entity_id, after) "
        "VALUES (?, NULL, 'bench.build', 'database', NULL, ?)",
        [now_utc, json.dumps({"today": today.isoformat(), "scale": scale.name})],
    )
    return counts


def _cumulative(shares: list[int]) -> list[int]:
    total, found = 0, []
    for share in shares:
        total += share
        found.append(total)
    return found


# u(...) is a deterministic number in [0, 1) drawn from the key given; pick(list, ...) an element.
_MACROS = """
CREATE OR REPLACE TEMP MACRO u(a, b, c) AS (hash(a, b, c) % 1000003) / 1000003.0;
CREATE OR REPLACE TEMP MACRO pick(l, a, b) AS l[1 + (hash(a, b, 'pick') % len(l))::INTEGER];
"""


def _families(cur, p: dict) -> None:
    cur.execute(
        """
        INSERT INTO families (id, name, email, phone, address, quotient_familial, payment_right, payment_right_at,
                              created_at)
        SELECT id, 'Famille ' || pick($last, id, 'last'), 'famille' || lpad(id::VARCHAR, 6, '0') || '@bench.fr',
               '06 ' || lpad((hash(id, 'phone', 0) % 100000000)::VARCHAR, 8, '0'),
               (1 + hash(id, 'no', 0) % 60)::VARCHAR || ' ' || pick($streets, id, 'street') || ', 31000 Garonne',
               [450, 620, 780, 900, 1100, 1350, 1600, 2100][1 + (hash(id, 'qf', 0) % 8)::INTEGER],
               CASE WHEN id % 5 = 0 THEN 'granted' ELSE 'none' END,
               CASE WHEN id % 5 = 0 THEN $now - INTERVAL 20 DAY END,
               $now - INTERVAL 500 DAY
        FROM range(1, $families + 1) t(id)""",
        {k: p[k] for k in ("last", "streets", "now", "families")},
    )


def _children(cur, p: dict) -> None:
    """Children numbered family by family (1 to 3 each, drawn), cut at the scale's count."""
    cur.execute(
        """
        INSERT INTO children (id, family_id, first_name, last_name, birth_date, school_class, diet_code)
        WITH kids AS (
            SELECT f.id AS family_id, k, substr(f.name, 9) AS last_name,
                   (hash(f.id, k, 'level') % 8)::INTEGER AS level,
                   (hash(f.id, k, 'diet') % 1000)::INTEGER AS diet_roll
            FROM families f, range(3) r(k)
            WHERE k < CASE WHEN u(f.id, 'kids', 0) < 0.5 THEN 1 WHEN u(f.id, 'kids', 0) < 0.88 THEN 2 ELSE 3 END
        ), numbered AS (SELECT *, row_number() OVER (ORDER BY family_id, k) AS id FROM kids)
        SELECT id, family_id,
               CASE WHEN u(id, 'sex', 0) < 0.5 THEN pick($first_f, id, 'first') ELSE pick($first_m, id, 'first') END,
               last_name,
               make_date($current - 3 - level, 1, 1) + (hash(id, 'birth', 0) % 365)::INTEGER,
               $levels[level + 1],
               $diets[1 + list_position(list_transform($cuts, lambda c: diet_roll < c), true) - 1]
        FROM numbered WHERE id <= $children""",
        {
            "first_f": p["first_f"],
            "first_m": p["first_m"],
            "current": p["current"],
            "levels": p["levels"],
            "diets": p["diets"],
            "cuts": p["diet_cuts"],
            "children": p["children"],
        },
    )
    # A scale's last family may have lost its children to the cut: drop empty families.
    cur.execute("DELETE FROM families WHERE id NOT IN (SELECT family_id FROM children)")


def _health(cur, year_id: int, now_utc: datetime) -> int:
    """The demo's PAI record for every child on the PAI diet registered this year (through the one
    store module that names the health table)."""
    ids = cur.execute(
        "SELECT DISTINCT c.id FROM children c JOIN registrations r ON r.child_id = c.id "
        "WHERE c.diet_code = 'pai_panier' AND r.school_year_id = ? ORDER BY c.id",
        [year_id],
    ).fetchall()
    return health.load(cur, demo.pai_records([i for (i,) in ids], now_utc))


def _users(cur, families: int, now_utc: datetime) -> None:
    # One argon2 hash for every account (they share the password): hashing 31,000 times would
    # take minutes for nothing.
    password_hash = hash_password(PASSWORD)
    insert_frame(
        cur,
        "users",
        pd.DataFrame(demo.staff_rows(password_hash, now_utc)).astype({"family_id": "Int64"}),
    )
    cur.execute(
        """
        INSERT INTO users (id, email, password_hash, role, family_id, display_name, created_at)
        SELECT f.id + $staff, f.email, $hash, 'famille', f.id, pick($parents, f.id, 'parent') || ' ' || substr(f.name, 9), $now
        FROM families f""",
        {"staff": len(STAFF), "hash": password_hash, "parents": demo.PARENT_F + demo.PARENT_M, "now": now_utc},
    )


def _registrations(cur, p: dict, years) -> None:
    """Each child at its district's school (maternelle or élémentaire by class that year), 92 %
    at the canteen; 32 % also on Wednesdays at the district's Wednesday site."""
    cur.execute(
        """
        CREATE TEMP TABLE _wanted AS
        WITH per_year AS (
            SELECT c.id AS child_id, y.id AS year_id, y.start_date,
                   (list_position($levels, c.school_class) - 1) - ($current - y.id) AS level,
                   (hash(c.family_id, 'district', 0) % $m)::INTEGER AS district,
                   c.family_id
            FROM children c, school_years y
        )
        SELECT child_id, year_id, start_date, family_id,
               CASE WHEN level < 3 THEN 1 + district ELSE 1 + $m + district % $e END AS site_id, [1] AS services
        FROM per_year WHERE level >= 0 AND u(child_id, 'canteen', 0) < 0.92
        UNION ALL
        SELECT child_id, year_id, start_date, family_id, 1 + $m + $e + district % $w, [2, 3]
        FROM per_year WHERE level >= 0 AND u(child_id, 'wednesday', 0) < 0.32""",
        {k: p[k] for k in ("levels", "current", "m", "e", "w")},
    )
    cur.execute("""
        INSERT INTO registrations (id, child_id, school_year_id, site_id, created_at, updated_at)
        SELECT row_number() OVER (ORDER BY year_id, child_id, site_id), child_id, year_id, site_id,
               timezone('UTC', timezone('Europe/Paris', (start_date - 40) + TIME '20:00')),
               timezone('UTC', timezone('Europe/Paris', (start_date - 40) + TIME '20:00'))
        FROM _wanted""")
    cur.execute("""
        INSERT INTO registration_services
        SELECT r.id, unnest(w.services) FROM registrations r
        JOIN _wanted w ON w.child_id = r.child_id AND w.year_id = r.school_year_id AND w.site_id = r.site_id""")


def _bookings(cur, p: dict) -> None:
    """Like the demo: 80 % of (child, service) book by weekly template (a quarter of canteen
    templates skip one or two weekdays), the others one day in five; 3 % cancelled; families
    whose id is a multiple of 8 book on paper (the town hall keys it in). Attendance for every
    booked day before today: 93 % present, 4.5 % absent, 2.5 % justified."""
    cur.execute("""
        INSERT INTO bookings
        SELECT r.child_id, rs.service_id, d.day, r.site_id,
               CASE WHEN u(r.child_id, rs.service_id, d.day) < 0.03 THEN 'cancelled' ELSE 'booked' END,
               CASE WHEN c.family_id % 8 = 0 THEN 'staff' WHEN u(r.child_id, rs.service_id, r.school_year_id) < 0.8
                    THEN 'template' ELSE 'occasional' END,
               CASE WHEN c.family_id % 8 = 0 THEN 1 ELSE c.family_id + 4 END,
               r.created_at,
               CASE WHEN c.family_id % 8 = 0 THEN 1 ELSE c.family_id + 4 END,
               CASE WHEN u(r.child_id, rs.service_id, d.day) < 0.03
                    THEN timezone('UTC', timezone('Europe/Paris', (d.day - 3) + TIME '19:00')) ELSE r.created_at END
        FROM registrations r
        JOIN registration_services rs ON rs.registration_id = r.id
        JOIN children c ON c.id = r.child_id
        JOIN _service_days d ON d.year_id = r.school_year_id AND d.service_id = rs.service_id
        WHERE CASE
            WHEN u(r.child_id, rs.service_id, r.school_year_id) >= 0.8 THEN u(r.child_id, d.day, 'occasional') < 0.2
            WHEN rs.service_id = 1 AND u(r.child_id, rs.service_id, r.school_year_id) > 0.55
                THEN isodow(d.day) <> [1, 2, 4, 5][1 + (hash(r.child_id, r.school_year_id, 'skip') % 4)::INTEGER]
            ELSE true END
        ORDER BY d.day, r.site_id, rs.service_id, r.child_id""")
    cur.execute(
        """
        INSERT INTO attendance
        SELECT child_id, service_id, day, site_id,
               CASE WHEN u(child_id, service_id, day + 1) < 0.93 THEN 'present'
                    WHEN u(child_id, service_id, day + 1) < 0.975 THEN 'absent' ELSE 'justified' END,
               1, timezone('UTC', timezone('Europe/Paris', day + TIME '14:00'))
        FROM bookings WHERE day < $today AND state = 'booked'""",
        {"today": p["today"]},
    )
    cur.execute("DROP TABLE _wanted")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Construit une ville de banc d'essai du Portail Famille.")
    parser.add_argument("--scale", default=None, help=f"échelle : {', '.join(SCALES)} (défaut : city)")
    parser.add_argument("--path", type=Path, required=True, help="fichier DuckDB à créer (nouveau)")
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="date du jour (AAAA-MM-JJ)")
    args = parser.parse_args(argv)
    try:
        scale = scale_named(args.scale)
        started = clock.perf_counter()
        counts = build_city(args.path, scale, args.today or datetime.now(PARIS).date())
    except (BadScale, FileExistsError, DatabaseUnavailable) as exc:
        print(f"Erreur : {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    print(
        f"Ville « {scale.name} » créée : {args.path} ({counts['families']} familles, {counts['children']} enfants, "
        f"{counts['bookings']} réservations) en {clock.perf_counter() - started:.1f} s."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
