"""Invoices, their lines, payments and online payment attempts."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

import duckdb
import numpy as np

from lib.domain import periods
from lib.domain.invoicing import Bracket, LineKind, Payer, PaymentRight, Tariff
from lib.domain.records import FamilyRight
from lib.store.db import Database, dicts
from lib.store.health import BASKET_CHILDREN
from lib.store.sql import (
    BASKET_LINE,
    BOOKED,
    FAMILY_EMAIL,
    GUARDIAN2,
    LINE_KIND_RANK,
    LINE_KIND_WORDS,
    MEAL_LINE,
    OPEN_DAY,
    RIGHT_NONE,
    RIGHT_REQUESTED,
    SPLIT,
    UNBOOKED_LINE,
    Dialects,
    dialects,
)

# The date a line's tariff is keyed by when it is its service's base tariff (stored as NULL).
BASE_DAY = date(1, 1, 1)


class DayPrice(NamedTuple):
    """One price of the month's table (lib.domain.invoicing.day_price): a day of `kind` of the service,
    under the tariff from `valid_from` (None: the base one), for a family of this QF and residence."""

    service_id: int
    valid_from: date | None
    kind: LineKind
    quotient_familial: int | None
    non_resident: bool
    price_cents: int | None
    own_price: bool = True  # False: a packed lunch without a price of its own, billed as a meal


# --- computing a month -------------------------------------------------------------------------


def known_quotients(cur: duckdb.DuckDBPyConnection) -> list[int | None]:
    """Every quotient familial a family may be billed at: every one of the history's (a month is billed
    at the QF then in force), the families' cached ones, and none (a family without a known QF). The
    tariff rule (lib.domain.invoicing.day_price) prices these few dozen, not each line."""
    return [
        r[0]
        for r in cur.execute(
            "SELECT quotient_familial FROM families UNION SELECT qf FROM family_quotients UNION SELECT NULL"
        ).fetchall()
    ]


def _rows(source, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    return (source.cursor() if hasattr(source, "write") else source).execute(sql, params).fetchall()


def _brackets(rows: list[tuple]) -> dict[tuple, tuple[Bracket, ...]]:
    found: dict[tuple, list[Bracket]] = {}
    for *key, qf_max, price in rows:
        found.setdefault(tuple(key), []).append(Bracket(qf_max, price))
    return {key: tuple(brackets) for key, brackets in found.items()}


def service_tariffs(db_or_cur) -> dict[int, list[Tariff]]:
    """Every service's tariffs, base first then its decisions by date: the one place that makes them."""
    base_brackets = _brackets(_rows(db_or_cur, "SELECT service_id, qf_max, price_cents FROM tariffs"))
    dated_brackets = _brackets(
        _rows(db_or_cur, "SELECT service_id, valid_from, qf_max, price_cents FROM tariff_decision_brackets")
    )
    found: dict[int, list[Tariff]] = {}
    for r in _rows(
        db_or_cur,
        """SELECT id, NULL AS valid_from, unit_price_cents, unbooked_price_cents, basket_price_cents,
                  non_resident_price_cents, '' AS reference FROM services
           UNION ALL
           SELECT service_id, valid_from, unit_price_cents, unbooked_price_cents, basket_price_cents,
                  non_resident_price_cents, coalesce(reference, '') FROM tariff_decisions
           ORDER BY 1, 2 NULLS FIRST""",
    ):
        service_id, valid_from, unit, unbooked, basket, non_resident, reference = r
        brackets = (
            base_brackets.get((service_id,), ())
            if valid_from is None
            else dated_brackets.get((service_id, valid_from), ())
        )
        found.setdefault(service_id, []).append(
            Tariff(valid_from, unit, brackets, unbooked, basket, non_resident, reference)
        )
    return found


def published_until(db_or_cur) -> date | None:
    """The first day after the last month invoiced, an issued document's or a line carried over below the
    minimum (None: nothing invoiced yet): a new tariff may apply from then on only."""
    found = _rows(
        db_or_cur,
        "SELECT greatest((SELECT max(period_month) FROM invoices), (SELECT max(period_month) FROM carried_lines))",
    )[0][0]
    return None if found is None else periods.next_month(found)


def insert_decision(
    cur: duckdb.DuckDBPyConnection, service_id: int, tariff: Tariff, user_id: int | None, at_utc: datetime
) -> None:
    cur.execute(
        """INSERT INTO tariff_decisions (service_id, valid_from, reference, unit_price_cents, unbooked_price_cents,
                  basket_price_cents, non_resident_price_cents, created_by, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            service_id,
            tariff.valid_from,
            tariff.reference or None,
            tariff.unit_price_cents,
            tariff.unbooked_price_cents,
            tariff.basket_price_cents,
            tariff.non_resident_price_cents,
            user_id,
            at_utc,
        ],
    )
    if tariff.brackets:
        cur.executemany(
            "INSERT INTO tariff_decision_brackets VALUES (?, ?, ?, ?)",
            [[service_id, tariff.valid_from, b.qf_max, b.price_cents] for b in tariff.brackets],
        )


_BASE = "DATE '0001-01-01'"  # BASE_DAY in SQL


_KEY = "family_id, child_id, service_id, kind, tkey"
_WKEY = "w.family_id, w.child_id, w.service_id, w.kind, w.tkey"

# Where `_month_lines` words a step differently on each engine: (DuckDB's words, PostgreSQL's).
_MONTH_LINES_WORDS: dict[str, tuple[str, str]] = {
    # a family's QF: the latest line of its history valid before the month's end
    "latest_qf": (
        "arg_max(qf, {'d': valid_from, 'i': id}) FILTER (WHERE valid_from < $after)",
        "(array_agg(qf ORDER BY valid_from DESC, id DESC) FILTER (WHERE valid_from < $after))[1]",
    ),
    # the price table and the tariffs with a packed lunch price, from parallel lists
    "prices": (
        """SELECT unnest($price_services) AS service_id, unnest($price_from) AS tkey, unnest($price_kinds) AS kind,
                   unnest($price_qf) AS qf, unnest($price_non_resident) AS non_resident,
                   unnest($price_cents) AS price""",
        """SELECT * FROM unnest($price_services::BIGINT[], $price_from::DATE[], $price_kinds::TEXT[],
                                 $price_qf::BIGINT[], $price_non_resident::BOOLEAN[], $price_cents::BIGINT[])
                   AS p (service_id, tkey, kind, qf, non_resident, price)""",
    ),
    "basket_priced": (
        "SELECT unnest($basket_services) AS service_id, unnest($basket_from) AS tkey",
        "SELECT * FROM unnest($basket_services::BIGINT[], $basket_from::DATE[]) AS b (service_id, tkey)",
    ),
    # the decision in force on a day: the latest from that day or before (on PostgreSQL, the one whose
    # span [valid_from, next decision) holds the day: a hash join, not a subquery per day)
    "decision_of_day": (
        "ASOF LEFT JOIN decisions v ON v.service_id = d.service_id AND d.day >= v.valid_from",
        """LEFT JOIN (SELECT service_id, valid_from,
                             lead(valid_from) OVER (PARTITION BY service_id ORDER BY valid_from) AS until
                      FROM decisions) v
              ON v.service_id = d.service_id AND d.day >= v.valid_from AND (v.until IS NULL OR d.day < v.until)""",
    ),
    # the days to bill by child, service, kind and tariff, at the family's price; PostgreSQL counts the days
    # first, then prices the counts (joining each day to the prices of its service first, the planner
    # paired every day with every QF's price), matching a QF by an equality it can hash (a QF is never
    # negative: the schema's CHECK)
    "counts": (
        """SELECT c.family_id, d.child_id, d.service_id, d.kind, d.tkey, count(*)::INTEGER AS quantity,
                   p.price
            FROM priced_days d
            JOIN children c ON c.id = d.child_id
            JOIN quotients q ON q.family_id = c.family_id
            JOIN prices p ON p.service_id = d.service_id AND p.tkey = d.tkey AND p.kind = d.kind
                          AND p.qf IS NOT DISTINCT FROM q.qf AND p.non_resident = q.non_resident
            WHERE p.price IS NOT NULL
            GROUP BY ALL""",
        """SELECT c.family_id, d.child_id, d.service_id, d.kind, d.tkey, d.quantity, p.price
            FROM (SELECT child_id, service_id, kind, tkey, count(*)::INTEGER AS quantity FROM priced_days
                  GROUP BY child_id, service_id, kind, tkey) d
            JOIN children c ON c.id = d.child_id
            JOIN quotients q ON q.family_id = c.family_id
            JOIN prices p ON p.service_id = d.service_id AND p.tkey = d.tkey AND p.kind = d.kind
                          AND coalesce(p.qf, -1) = coalesce(q.qf, -1) AND p.non_resident = q.non_resident
            WHERE p.price IS NOT NULL""",
    ),
    # the lines the month's documents billed, and those carried over
    "month_lines": (
        f"""SELECT i.family_id, i.payer_guardian_id AS payer, l.* EXCLUDE (line_kind, tariff_from),
                   coalesce(l.line_kind, {MEAL_LINE}) AS kind, coalesce(l.tariff_from, {_BASE}) AS tkey,
                   i.created_at AS billed_at
            FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id
            WHERE i.period_month = $first AND l.carried_from IS NULL
            UNION ALL BY NAME
            SELECT family_id, payer_guardian_id AS payer, -1 AS invoice_id, line_no, child_id, service_id, label,
                   quantity, unit_price_cents, amount_cents, counted, share_percent, NULL::DATE AS carried_from,
                   line_kind AS kind, coalesce(tariff_from, {_BASE}) AS tkey, carried_at AS billed_at
            FROM carried_lines WHERE period_month = $first""",
        f"""SELECT i.family_id, i.payer_guardian_id AS payer, l.invoice_id, l.line_no, l.child_id, l.service_id,
                   l.quantity, l.unit_price_cents, l.amount_cents, l.counted,
                   coalesce(l.line_kind, {MEAL_LINE}) AS kind, coalesce(l.tariff_from, {_BASE}) AS tkey,
                   i.created_at AS billed_at
            FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id
            WHERE i.period_month = $first AND l.carried_from IS NULL
            UNION ALL
            SELECT family_id, payer_guardian_id, -1, line_no, child_id, service_id,
                   quantity, unit_price_cents, amount_cents, counted,
                   line_kind, coalesce(tariff_from, {_BASE}), carried_at
            FROM carried_lines WHERE period_month = $first""",
    ),
    # a key's latest billing (its latest line) and the group of each count
    "latest_billed": (
        """max((billed_at, invoice_id, line_no)) AS latest
            FROM month_lines GROUP BY ALL""",
        f"""(array_agg(ROW(billed_at, invoice_id, line_no)
                               ORDER BY billed_at DESC, invoice_id DESC, line_no DESC))[1] AS latest
            FROM month_lines GROUP BY {_KEY}, unit_price_cents""",
    ),
    "group_billed": ("GROUP BY ALL", f"GROUP BY {_KEY}"),
    # what each payer was billed on a key, for the keys billed anything
    "billed_weights": (
        f"""SELECT * FROM (SELECT {_KEY}, payer, greatest(sum(amount_cents), 0)::BIGINT AS weight
                           FROM month_lines GROUP BY {_KEY}, payer)
            QUALIFY sum(weight) OVER (PARTITION BY {_KEY}) > 0""",
        f"""SELECT {_KEY}, payer, weight FROM (
                SELECT *, sum(weight) OVER (PARTITION BY {_KEY}) AS key_weight
                FROM (SELECT {_KEY}, payer, greatest(sum(amount_cents), 0)::BIGINT AS weight
                      FROM month_lines GROUP BY {_KEY}, payer) p) w
            WHERE key_weight > 0""",
    ),
    "first_invoice_alias": ("", " o"),
    # a payer's share reads its difference (quantity, first billed) from `deltas` again on DuckDB; on
    # PostgreSQL the difference rides along (`weights` → `shares`): joined back to `deltas`, whose size
    # it cannot estimate, the planner chose a nested loop over it, quadratic in the month's lines
    "carried_delta": ("", ", d.quantity AS delta_quantity, d.first_time AS delta_first"),
    "cut_delta": (
        f"JOIN deltas d USING ({_KEY}, unit_price_cents)",
        "CROSS JOIN LATERAL (SELECT r.delta_quantity AS quantity, r.unit_price_cents) d",
    ),
    "line_delta": (
        f"JOIN deltas d USING ({_KEY}, unit_price_cents)",
        """CROSS JOIN LATERAL (SELECT s.family_id, s.child_id, s.service_id, s.kind, s.tkey, s.unit_price_cents,
                                      s.delta_quantity AS quantity, s.delta_first AS first_time) d""",
    ),
    # a line's weight (an integer: PostgreSQL's sum is NUMERIC) and a share's percent (a double division)
    "line_weight": (
        f"sum(w.weight) OVER (PARTITION BY {_WKEY}, w.unit_price_cents)",
        f"(sum(w.weight) OVER (PARTITION BY {_WKEY}, w.unit_price_cents))::BIGINT",
    ),
    "share_percent": ("round(100 * s.w / s.wsum)::INTEGER", "round(100.0 * s.w / s.wsum)::INTEGER"),
}


def _month_lines_text(w: Mapping[str, str]) -> str:
    """`_month_lines`' statement with each engine's words `w` (`_MONTH_LINES_WORDS`)."""
    return f"""
        WITH quotients AS (
            SELECT f.id AS family_id, coalesce(f.non_resident, false) AS non_resident,
                   CASE WHEN h.family_id IS NULL THEN f.quotient_familial ELSE h.qf END AS qf
            FROM families f
            LEFT JOIN (SELECT family_id,
                              {w["latest_qf"]} AS qf
                       FROM family_quotients GROUP BY family_id) h ON h.family_id = f.id
        ), decisions AS (
            SELECT service_id, valid_from FROM tariff_decisions WHERE valid_from < $after
        ), booked_days AS (
            SELECT b.child_id, b.service_id, b.day, true AS booked
            FROM bookings b
            WHERE b.state = {BOOKED} AND b.day >= $first AND b.day < $after AND {OPEN_DAY}
              AND NOT ($credit AND EXISTS (SELECT 1 FROM attendance a WHERE a.child_id = b.child_id
                       AND a.service_id = b.service_id AND a.day = b.day AND a.status = 'justified'))
        ), all_days AS (
            SELECT * FROM booked_days
            UNION ALL
            SELECT b.child_id, b.service_id, b.day, false
            FROM attendance b
            WHERE b.status = 'present' AND b.day >= $first AND b.day < $after AND {OPEN_DAY}
              AND NOT EXISTS (SELECT 1 FROM bookings x WHERE x.child_id = b.child_id AND x.service_id = b.service_id
                              AND x.day = b.day AND x.state = {BOOKED} AND x.day >= $first AND x.day < $after)
        ), prices AS (
            {w["prices"]}
        ), basket_priced AS (
            -- the tariffs with a packed lunch price of their own (without one, it is billed as a meal)
            {w["basket_priced"]}
        ), dated_days AS (
            SELECT d.*, coalesce(v.valid_from, {_BASE}) AS tkey,
                   bk.child_id IS NOT NULL AND (bk.valid_until IS NULL OR bk.valid_until >= d.day) AS basket
            FROM all_days d
            {w["decision_of_day"]}
            LEFT JOIN {BASKET_CHILDREN} bk ON bk.child_id = d.child_id
        ), priced_days AS (
            SELECT d.child_id, d.service_id, d.tkey,
                   CASE WHEN d.basket AND bp.service_id IS NOT NULL THEN {BASKET_LINE}
                        WHEN d.booked THEN {MEAL_LINE} ELSE {UNBOOKED_LINE} END AS kind
            FROM dated_days d LEFT JOIN basket_priced bp ON bp.service_id = d.service_id AND bp.tkey = d.tkey
        ), counts AS (
            {w["counts"]}
        ), month_lines AS (
            {w["month_lines"]}
        ), billed_prices AS (
            -- what a line was billed at each of its prices (a QF or residence changed between two runs)
            SELECT {_KEY}, unit_price_cents, coalesce(sum(quantity) FILTER (WHERE counted), 0)::INTEGER AS billed,
                   {w["latest_billed"]}
        ), billed AS (
            SELECT {_KEY}, sum(billed)::INTEGER AS billed FROM billed_prices {w["group_billed"]}
        ), billed_weights AS (
            {w["billed_weights"]}
        ), first_invoice AS (
            -- what a payer's credit note of the month corrects: his first invoice of the month, else the
            -- invoice that billed the month's lines carried over for him (none while they still wait)
            SELECT family_id, payer, coalesce(min(id) FILTER (WHERE own), min(id)) AS id FROM (
                SELECT family_id, payer_guardian_id AS payer, id, true AS own FROM invoices
                WHERE period_month = $first AND kind = 'invoice'
                UNION ALL
                SELECT family_id, payer_guardian_id, settled_invoice_id, false FROM carried_lines
                WHERE period_month = $first AND settled_invoice_id IS NOT NULL){w["first_invoice_alias"]}
            GROUP BY family_id, payer
        ), merged AS (
            SELECT coalesce(c.family_id, b.family_id) AS family_id, coalesce(c.child_id, b.child_id) AS child_id,
                   coalesce(c.service_id, b.service_id) AS service_id, coalesce(c.kind, b.kind) AS kind,
                   coalesce(c.tkey, b.tkey) AS tkey,
                   coalesce(c.quantity, 0) - coalesce(b.billed, 0) AS delta, c.price,
                   b.billed IS NULL AS first_time
            FROM counts c FULL JOIN billed b
              ON b.family_id = c.family_id AND b.child_id = c.child_id AND b.service_id = c.service_id
                 AND b.kind = c.kind AND b.tkey = c.tkey
        ), removed AS (
            -- removed days are credited at the prices they were billed at, the latest first
            SELECT m.family_id, m.child_id, m.service_id, m.kind, m.tkey, p.unit_price_cents,
                   least(p.billed, -m.delta - coalesce(sum(p.billed) OVER (
                       PARTITION BY m.family_id, m.child_id, m.service_id, m.kind, m.tkey ORDER BY p.latest DESC
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)) AS credited
            FROM merged m JOIN billed_prices p USING ({_KEY})
            WHERE m.delta < 0 AND p.billed > 0
        ), deltas AS (
            SELECT m.family_id, m.child_id, m.service_id, m.kind, m.tkey, m.delta AS quantity, m.first_time,
                   m.price AS unit_price_cents
            FROM merged m
            WHERE m.delta > 0
            UNION ALL
            SELECT family_id, child_id, service_id, kind, tkey, -credited, false, unit_price_cents
            FROM removed WHERE credited > 0
        ), payers AS (
            SELECT f.id AS family_id, f.billing = {SPLIT} AND g2.id IS NOT NULL AS split, g1.id AS g1,
                   CASE WHEN f.billing = {GUARDIAN2} AND g2.id IS NOT NULL THEN g2.id ELSE g1.id END AS whole, g2.id AS g2
            FROM families f
            LEFT JOIN guardians g1 ON g1.family_id = f.id AND g1.rank = 1
            LEFT JOIN guardians g2 ON g2.family_id = f.id AND g2.rank = 2
        ), weights AS (
            SELECT d.family_id, d.child_id, d.service_id, d.kind, d.tkey, d.unit_price_cents{w["carried_delta"]}, w.payer, w.weight
            FROM deltas d JOIN billed_weights w USING ({_KEY})
            WHERE d.quantity < 0
            UNION ALL
            SELECT d.family_id, d.child_id, d.service_id, d.kind, d.tkey, d.unit_price_cents{w["carried_delta"]}, p.whole, 1
            FROM deltas d JOIN payers p USING (family_id)
            WHERE NOT p.split AND (d.quantity > 0 OR NOT EXISTS (SELECT 1 FROM billed_weights w
                  WHERE w.family_id = d.family_id AND w.child_id = d.child_id AND w.service_id = d.service_id
                        AND w.kind = d.kind AND w.tkey = d.tkey))
            UNION ALL
            SELECT d.family_id, d.child_id, d.service_id, d.kind, d.tkey, d.unit_price_cents{w["carried_delta"]}, g.id,
                   coalesce(s.percent, CASE WHEN EXISTS (SELECT 1 FROM billing_shares x WHERE x.child_id = d.child_id)
                                            THEN 0 ELSE 50 END)
            FROM deltas d JOIN payers p USING (family_id)
            JOIN guardians g ON g.id IN (p.g1, p.g2)
            LEFT JOIN billing_shares s ON s.child_id = d.child_id AND s.guardian_id = g.id
            WHERE p.split AND (d.quantity > 0 OR NOT EXISTS (SELECT 1 FROM billed_weights w
                  WHERE w.family_id = d.family_id AND w.child_id = d.child_id AND w.service_id = d.service_id
                        AND w.kind = d.kind AND w.tkey = d.tkey))
        ), ranked AS (
            SELECT w.*, coalesce(g.rank, 1) AS payer_rank,
                   {w["line_weight"]} AS line_weight,
                   row_number() OVER (PARTITION BY {_WKEY}, w.unit_price_cents ORDER BY coalesce(g.rank, 1), w.payer) AS place_in_line
            FROM weights w LEFT JOIN guardians g ON g.id = w.payer
        ), cut AS (
            -- a line whose shares are all 0 % (shares of guardians no longer the family's) goes whole
            -- to its first payer: a difference always gets its line
            SELECT r.*, abs(d.quantity * d.unit_price_cents)::BIGINT AS whole_cents,
                   CASE WHEN r.line_weight > 0 THEN r.weight ELSE (r.place_in_line = 1)::INTEGER END AS w,
                   CASE WHEN r.line_weight > 0 THEN r.line_weight ELSE 1 END AS wsum
            FROM ranked r {w["cut_delta"]}
        ), shares AS (
            SELECT *, whole_cents * w // wsum AS floor_cents,
                   row_number() OVER (PARTITION BY {_KEY}, unit_price_cents
                                      ORDER BY whole_cents * w % wsum DESC, place_in_line) AS place,
                   whole_cents - sum(whole_cents * w // wsum) OVER (PARTITION BY {_KEY}, unit_price_cents) AS left_over,
                   count(*) FILTER (WHERE w > 0) OVER (PARTITION BY {_KEY}, unit_price_cents) AS payers
            FROM cut
        ), lines AS (
            SELECT d.family_id, coalesce(f.name, '') AS family, s.payer,
                   coalesce(trim(g.first_name || ' ' || g.last_name), '') AS payer_name, s.payer_rank,
                   d.child_id, d.service_id, d.kind, d.tkey,
                   CASE WHEN d.quantity > 0 AND d.first_time THEN '' ELSE 'Régularisation : ' END
                     || ch.first_name || ' — ' || {LINE_KIND_WORDS.format(kind="d.kind")}
                     || sv.name || ' (' || $month_label || ')'
                     || CASE WHEN d.tkey > $first THEN ' — tarif au ' || strftime(d.tkey, '%d/%m/%Y') ELSE '' END
                     || CASE WHEN s.payers > 1 THEN ' — part ' || {w["share_percent"]} || ' %' ELSE '' END
                     AS label,
                   d.quantity, d.unit_price_cents,
                   (sign(d.quantity) * (s.floor_cents + (s.place <= s.left_over)::INTEGER))::INTEGER AS amount_cents,
                   row_number() OVER (PARTITION BY d.family_id, d.child_id, d.service_id, d.kind, d.tkey,
                                                   d.unit_price_cents ORDER BY s.place_in_line) = 1 AS counted,
                   CASE WHEN s.payers > 1 THEN {w["share_percent"]} END AS share_percent,
                   {LINE_KIND_RANK.format(kind="d.kind")} AS kind_rank
            FROM shares s
            {w["line_delta"]}
            JOIN children ch ON ch.id = d.child_id
            JOIN services sv ON sv.id = d.service_id
            LEFT JOIN families f ON f.id = d.family_id
            LEFT JOIN guardians g ON g.id = s.payer
            WHERE s.w > 0
        )
        , carried AS (
            -- what earlier months carried over for a payer, still waiting for an invoice
            SELECT c.family_id, coalesce(f.name, '') AS family, c.payer_guardian_id AS payer,
                   coalesce(trim(g.first_name || ' ' || g.last_name), '') AS payer_name, coalesce(g.rank, 1) AS payer_rank,
                   c.child_id, c.service_id, c.line_kind AS kind, coalesce(c.tariff_from, {_BASE}) AS tkey, c.label,
                   c.quantity, c.unit_price_cents, c.amount_cents, c.counted, c.share_percent,
                   {LINE_KIND_RANK.format(kind="c.line_kind")} AS kind_rank, c.period_month AS carried_from
            FROM carried_lines c
            LEFT JOIN families f ON f.id = c.family_id
            LEFT JOIN guardians g ON g.id = c.payer_guardian_id
            WHERE c.settled_invoice_id IS NULL AND c.period_month < $first
        ), all_lines AS (
            SELECT *, NULL::DATE AS carried_from FROM lines
            UNION ALL
            SELECT * FROM carried
        ), totals AS (
            SELECT l.*, sum(l.amount_cents) OVER (PARTITION BY l.family_id, l.payer)::BIGINT AS document_total
            FROM all_lines l
        ), held AS (
            -- below the minimum, or a credit for lines of the month still carried over (it waits with them:
            -- a credit note always corrects an invoice)
            SELECT t.*, fi.id AS first_invoice_id,
                   document_total > 0 AND document_total < $minimum OR document_total < 0 AND fi.id IS NULL AS held
            FROM totals t LEFT JOIN first_invoice fi ON fi.family_id = t.family_id AND fi.payer IS NOT DISTINCT FROM t.payer
        )
        SELECT l.*,
               row_number() OVER (PARTITION BY l.family_id, l.payer
                                  ORDER BY l.carried_from NULLS LAST, l.child_id, l.service_id, l.kind_rank, l.tkey,
                                           l.quantity > 0 DESC, l.unit_price_cents DESC, l.label,
                                           l.amount_cents)::INTEGER AS line_no,
               dense_rank() OVER (PARTITION BY l.held ORDER BY l.family_id, l.payer_rank, l.payer)::INTEGER
                 AS document_no,
               l.share_percent IS NULL AS whole, coalesce(l.carried_from, $first) AS line_month
        FROM held l
        ORDER BY l.family_id, l.payer_rank, l.payer, line_no
        """


MONTH_LINES = dialects(
    duckdb=_month_lines_text({name: words[0] for name, words in _MONTH_LINES_WORDS.items()}),
    postgresql=_month_lines_text({name: words[1] for name, words in _MONTH_LINES_WORDS.items()}),
)


def _month_lines(
    first: date,
    after: date,
    credit_justified: bool,
    prices: Sequence[DayPrice],
    month_label: str,
    minimum_cents: int,
) -> tuple[Dialects, dict]:
    """What a month still needs billed, one row per line of the documents to issue, ordered:
    (family_id, family name, payer (guardian id), payer's name, child_id, service_id, kind (LineKind),
    tariff key (the decision's date; 0001-01-01 for the base tariff), label, quantity to add (negative:
    to credit), unit price, amount, counted, share_percent, line number in its document, document number
    in the run (1, 2, … by family and payer), the document's total, the invoice a credit note corrects
    (the payer's first of the month, else the one that billed his lines of the month carried over), held
    (carried over), whole (not a share)).

    Days to bill for [first, after), never on a closure or a strike (`OPEN_DAY`): the booked days, less
    justified absences when the town credits them, and the days a child was present without a booking.
    Each day is a PAI packed lunch when the child brings one (health's BASKET_CHILDREN, a flag), else a
    booked meal or an unbooked day (lib.domain.invoicing.day_kind), priced at the decision in force
    that day (an ASOF join on the decisions' dates; the base tariff before the first) for the family's
    QF in force on the month's last day (the latest line of its history valid by then; the cached QF
    for a family without history) and its « hors commune » flag, from `prices`
    (lib.domain.invoicing.day_price); a day with no price (its kind not billed) makes no line.

    Already billed is what the month's documents say, by (child, service, kind, decision) (credit
    notes count negative; a split line's quantity once). Added days take the price above; removed days
    are credited at the prices they were billed at, the latest first (a line billed at two prices, its QF
    changed between two runs, gets a credit line per price): a later tariff or QF never re-prices a
    published month.

    Each difference goes to its payers: the billed guardian (guardian 2 when the family's bill goes to
    him, else guardian 1), or for a split bill both guardians by the child's shares (50/50 without
    shares). A credit follows what each payer was billed on that line's key that month. An amount is
    shared by lib.domain.invoicing.split_cents's largest-remainder rule, written here in SQL; a 0 %
    share makes no line. A line first billed reads "Léa — Restauration scolaire (novembre 2026)" (for
    the other kinds "Léa — Repas non réservé — Restauration scolaire (novembre 2026)"; from a decision
    that starts within the month, " — tarif au 15/01/2027" follows), a difference "Régularisation : …",
    a share ends with " — part 70 %". All of it in one statement, set-based: at city scale (73,000
    lines) the same merge and numbering done in Python took a second."""
    baskets = sorted(
        {(p.service_id, p.valid_from) for p in prices if p.kind is LineKind.BASKET and p.own_price},
        key=lambda b: (b[0], b[1] or BASE_DAY),
    )
    params = {
        "first": first,
        "after": after,
        "credit": credit_justified,
        "month_label": month_label,
        "minimum": minimum_cents,
        "price_services": [p.service_id for p in prices],
        "price_from": [p.valid_from or BASE_DAY for p in prices],
        "price_kinds": [p.kind.value for p in prices],
        "price_qf": [p.quotient_familial for p in prices],
        "price_non_resident": [p.non_resident for p in prices],
        "price_cents": [p.price_cents for p in prices],
        "basket_services": [service_id for service_id, _ in baskets],
        "basket_from": [valid_from or BASE_DAY for _, valid_from in baskets],
    }
    return MONTH_LINES, params


class MonthLines:
    """The lines of `_month_lines` for the draft, kept as the arrays DuckDB returns, in line
    order, with their documents (one per family and payer) found by array operations. Python objects
    are made only for what is read: 73,000 lines and 30,000 documents at city scale made as objects
    cost a third of a second, most of it the garbage collector going over them, and the draft's
    page only counts them."""

    def __init__(self, columns: Mapping[str, Sequence[Any] | np.ndarray]):
        self._columns = {name: np.asarray(values) for name, values in columns.items()}
        starts = np.flatnonzero(self._columns["line_no"] == 1)
        ends = np.append(starts[1:], len(self._columns["line_no"]))
        held = self._columns["held"][starts].astype(bool) if len(starts) else np.zeros(0, dtype=bool)
        # the documents to issue; those held below the minimum for public recovery are carried over
        self._starts, self._ends = starts[~held], ends[~held]
        self._held_starts, self._held_ends = starts[held], ends[held]

    def __len__(self) -> int:
        """How many documents."""
        return len(self._starts)

    @property
    def total_cents(self) -> int:
        return int(self._columns["document_total"][self._starts].sum())

    def documents_by_column(self) -> dict[str, list]:
        """Every document's family name, payer's name, number of lines and total, by column (for a table)."""
        return {
            "family": self._columns["family"][self._starts].tolist(),
            "payer": self._columns["payer_name"][self._starts].tolist(),
            "lines": (self._ends - self._starts).tolist(),
            "total_cents": self._columns["document_total"][self._starts].tolist(),
        }

    def carried_over(self) -> list[tuple[str, str, int, int, list[date]]]:
        """The documents held below the minimum and carried over: (family name, payer's name, lines,
        total, the months they bill, in order)."""
        c = self._columns
        return [
            (
                str(c["family"][start]),
                str(c["payer_name"][start]),
                int(end - start),
                int(c["document_total"][start]),
                sorted({c["line_month"][i].astype("datetime64[D]").item() for i in range(start, end)}),
            )
            for start, end in zip(self._held_starts.tolist(), self._held_ends.tolist())
        ]

    def document(self, n: int) -> tuple[int, str, str, int, int, int]:
        """Document n: (family_id, family name, payer's name, its first line, the end of its lines, total)."""
        start = int(self._starts[n])
        c = self._columns
        return (
            int(c["family_id"][start]),
            str(c["family"][start]),
            str(c["payer_name"][start]),
            start,
            int(self._ends[n]),
            int(c["document_total"][start]),
        )

    def line(self, i: int) -> tuple[int, int, str, int, int, int | None]:
        """Line i of the month: (child_id, service_id, label, quantity, unit_price_cents, share_cents), the
        share None for a whole line."""
        c = self._columns
        return (
            int(c["child_id"][i]),
            int(c["service_id"][i]),
            str(c["label"][i]),
            int(c["quantity"][i]),
            int(c["unit_price_cents"][i]),
            None if c["whole"][i] else int(c["amount_cents"][i]),
        )


def month_lines(
    cur: duckdb.DuckDBPyConnection,
    first: date,
    after: date,
    credit_justified: bool,
    prices: Sequence[DayPrice],
    month_label: str,
    minimum_cents: int,
) -> MonthLines:
    sql, params = _month_lines(first, after, credit_justified, prices, month_label, minimum_cents)
    return MonthLines(cur.execute(sql, params).fetchnumpy())


_staged = itertools.count()


def publish_lines(
    cur: duckdb.DuckDBPyConnection,
    first: date,
    after: date,
    credit_justified: bool,
    prices: Sequence[DayPrice],
    month_label: str,
    minimum_cents: int,
    *,
    first_id: int,
    first_seq: int,
    year: int,
    prefixes: dict[str, str],
    issue: date,
    due: date,
    at_utc: datetime,
) -> tuple[list[tuple], int]:
    """Insert every document the month still needs and its lines, set-based (inside the caller's
    transaction): document n of the run (by family and payer) gets id `first_id + n - 1` and the number
    `<prefix>-<year>-<seq:06d>` with seq `first_seq + n - 1`, the prefix of its kind (`prefixes`:
    kind → prefix, from lib.domain.invoicing) and its payer; a credit note corrects its payer's first
    invoice of the month. A document below `minimum_cents` (not a credit note) is not issued: its new lines
    are carried over (`carried_lines`, frozen, « Report de … »); a payer's issued invoice bills and settles
    what earlier months carried for him. Returns (seq, number, total_cents) of the documents issued, by
    seq, and how many payers' documents carried new lines over."""
    sql, params = _month_lines(first, after, credit_justified, prices, month_label, minimum_cents)
    staged = f"_month_lines_{next(_staged)}"
    cur.execute(
        dialects(
            duckdb=f"CREATE TEMP TABLE {staged} AS {sql}", postgresql=f"CREATE TEMP TABLE {staged} AS {sql.postgresql}"
        ),
        params,
    )
    try:
        issued = cur.execute(
            f"""
            INSERT INTO invoices (id, number, year, seq, kind, family_id, period_month, issue_date, due_date,
                                  total_cents, corrects_invoice_id, created_at, payer_guardian_id)
            SELECT $first_id + document_no - 1,
                   CASE WHEN document_total < 0 THEN $credit_prefix ELSE $invoice_prefix END || '-' || $year || '-'
                     || lpad(($first_seq + document_no - 1)::VARCHAR, 6, '0'),
                   $year, $first_seq + document_no - 1,
                   CASE WHEN document_total < 0 THEN 'credit_note' ELSE 'invoice' END, family_id, $first, $issue, $due,
                   document_total, CASE WHEN document_total < 0 THEN first_invoice_id END, $at, payer
            FROM {staged} WHERE line_no = 1 AND NOT held
            RETURNING seq, number, total_cents
            """,
            {
                "first_id": first_id,
                "first_seq": first_seq,
                "year": year,
                "first": first,
                "issue": issue,
                "due": due,
                "at": at_utc,
                "credit_prefix": prefixes["credit_note"],
                "invoice_prefix": prefixes["invoice"],
            },
        ).fetchall()
        cur.execute(
            f"""INSERT INTO invoice_lines (invoice_id, line_no, child_id, service_id, label, quantity,
                                           unit_price_cents, amount_cents, counted, share_percent,
                                           line_kind, tariff_from, carried_from)
                SELECT $first_id + document_no - 1, line_no, child_id, service_id, label, quantity, unit_price_cents,
                       amount_cents, counted, share_percent, kind, CASE WHEN tkey > $base THEN tkey END, carried_from
                FROM {staged} WHERE NOT held""",
            {"first_id": first_id, "base": BASE_DAY},
        )
        cur.execute(
            f"""UPDATE carried_lines c SET settled_invoice_id = s.invoice_id
                FROM (SELECT DISTINCT family_id, payer, $first_id + document_no - 1 AS invoice_id
                      FROM {staged} WHERE NOT held AND carried_from IS NOT NULL) s
                WHERE c.family_id = s.family_id AND c.payer_guardian_id IS NOT DISTINCT FROM s.payer
                  AND c.settled_invoice_id IS NULL AND c.period_month < $first""",
            {"first_id": first_id, "first": first},
        )
        cur.execute(
            f"""INSERT INTO carried_lines (family_id, payer_guardian_id, period_month, line_no, child_id, service_id,
                                           label, quantity, unit_price_cents, amount_cents, counted, share_percent,
                                           line_kind, tariff_from, carried_at)
                SELECT family_id, payer, $first, line_no, child_id, service_id,
                       'Report de ' || $month_label || ' : ' || label, quantity, unit_price_cents, amount_cents,
                       counted, share_percent, kind, CASE WHEN tkey > $base THEN tkey END, $at
                FROM {staged} WHERE held AND carried_from IS NULL""",
            {"first": first, "month_label": month_label, "base": BASE_DAY, "at": at_utc},
        )
        held = cur.execute(
            f"SELECT count(DISTINCT (family_id, payer)) FROM {staged} WHERE held AND carried_from IS NULL"
        ).fetchall()[0][0]
    finally:
        cur.execute(f"DROP TABLE IF EXISTS {staged}")
    return sorted(issued), held


def sequence_state(cur: duckdb.DuckDBPyConnection, year: int) -> tuple[int, int, int]:
    """(documents, distinct numbers, highest number) of a year's sequence: enough to tell it is
    gapless without reading every number (hundreds of thousands at city scale)."""
    return tuple(
        cur.execute(
            "SELECT count(*), count(DISTINCT seq), coalesce(max(seq), 0) FROM invoices WHERE year = ?", [year]
        ).fetchall()[0]
    )


def next_invoice_id(cur: duckdb.DuckDBPyConnection) -> int:
    return cur.execute("SELECT coalesce(max(id), 0) + 1 FROM invoices").fetchall()[0][0]


# --- reading -------------------------------------------------------------------------------------

# What an invoice `i` has received, in cents: its payments, and its credit notes (as a positive sum).
PAID_CENTS = "coalesce((SELECT sum(p.amount_cents) FROM payments p WHERE p.invoice_id = i.id), 0)::BIGINT"
CREDITED_CENTS = "coalesce((SELECT -sum(k.total_cents) FROM invoices k WHERE k.corrects_invoice_id = i.id), 0)::BIGINT"

_SUMMARY = f"""
    SELECT i.id, i.number, i.kind, i.family_id, i.period_month, i.issue_date, i.due_date, i.total_cents,
           {PAID_CENTS} AS paid_cents, {CREDITED_CENTS} AS credited_cents,
           (SELECT max(t.created_at) FROM payment_transactions t WHERE t.invoice_id = i.id AND t.state = 'pending'
                   AND t.created_at > $pending_since) AS pending_started,
           i.payer_guardian_id, g.user_id AS payer_user_id, coalesce(trim(g.first_name || ' ' || g.last_name), '')
             AS payer_name, f.billing = {SPLIT} AS split_family
    FROM invoices i JOIN families f ON f.id = i.family_id LEFT JOIN guardians g ON g.id = i.payer_guardian_id
"""


def family_invoices(db: Database, family_id: int, pending_since: datetime) -> list[dict]:
    return db.dicts(
        _SUMMARY + " WHERE i.family_id = $family ORDER BY i.issue_date DESC, i.id DESC",
        {"family": family_id, "pending_since": pending_since},
    )


def invoice_summary(db_or_cur, invoice_id: int, pending_since: datetime) -> dict | None:
    params = {"id": invoice_id, "pending_since": pending_since}
    sql = _SUMMARY + " WHERE i.id = $id"
    found = dicts(db_or_cur, sql, params)
    return found[0] if found else None


def month_documents(db: Database, period: date) -> list[dict]:
    return db.dicts(
        """SELECT i.number, i.kind, f.name AS family, coalesce(trim(g.first_name || ' ' || g.last_name), '') AS payer,
                  i.total_cents, i.issue_date FROM invoices i
           JOIN families f ON f.id = i.family_id LEFT JOIN guardians g ON g.id = i.payer_guardian_id
           WHERE i.period_month = ? ORDER BY i.seq""",
        [period],
    )


def month_carried(db_or_cur, period: date) -> int:
    """How many lines of a month were carried over (billed later, or still waiting)."""
    return _rows(db_or_cur, "SELECT count(*) FROM carried_lines WHERE period_month = ?", [period])[0][0]


def month_invoices(db: Database, period: date) -> list[tuple[int, int, int, str]]:
    """(id, family, total in cents, number) of every document of a month, in id order."""
    return db.rows(
        "SELECT id, family_id, total_cents, number FROM invoices WHERE period_month = ? ORDER BY id", [period]
    )


_PAYERS_OF = """SELECT i.id, g.id AS guardian_id, trim(g.first_name || ' ' || g.last_name) AS name,
                  coalesce(g.email, CASE WHEN g.rank = 1 THEN f.email END) AS email,
                  coalesce(g.address, CASE WHEN g.rank = 1 THEN f.address END) AS address, g.user_id
           FROM invoices i JOIN families f ON f.id = i.family_id JOIN guardians g ON g.id = i.payer_guardian_id"""
_PAYERS = dialects(
    duckdb=_PAYERS_OF + "\n           WHERE i.id IN (SELECT unnest($ids))",
    postgresql=_PAYERS_OF + "\n           WHERE i.id = ANY($ids::BIGINT[])",
)


def payers(db_or_cur, invoice_ids: Sequence[int]) -> dict[int, Payer]:
    """Who each invoice is addressed to: its payer guardian's name, e-mail and address (guardian 1's
    falling back on the family's own, kept from before guardians), and his account. The one place
    that says whom to write to about an invoice and which account may pay it."""
    rows = dicts(
        db_or_cur,
        _PAYERS,
        {"ids": list(invoice_ids)},
    )
    return {r["id"]: Payer(r["guardian_id"], r["name"], r["email"], r["address"], r["user_id"]) for r in rows}


def invoice_number(cur: duckdb.DuckDBPyConnection, invoice_id: int) -> str | None:
    found = cur.execute("SELECT number FROM invoices WHERE id = ?", [invoice_id]).fetchall()
    return found[0][0] if found else None


def invoice_lines(db: Database, invoice_id: int) -> list[dict]:
    return db.dicts(
        """SELECT l.line_no, l.child_id, c.first_name, c.last_name, s.name AS service, l.label, l.quantity,
                  l.unit_price_cents, l.amount_cents
           FROM invoice_lines l JOIN children c ON c.id = l.child_id JOIN services s ON s.id = l.service_id
           WHERE l.invoice_id = ? ORDER BY l.line_no""",
        [invoice_id],
    )


def invoice_payments(db: Database, invoice_id: int) -> list[dict]:
    return db.dicts(
        "SELECT amount_cents, paid_at, method FROM payments WHERE invoice_id = ? ORDER BY paid_at", [invoice_id]
    )


def family(db_or_cur, family_id: int) -> dict | None:
    sql = f"""SELECT id, name, {FAMILY_EMAIL} AS email, phone, address, quotient_familial, payment_right,
                     payment_right_at FROM families f WHERE id = ?"""
    found = dicts(db_or_cur, sql, [family_id])
    return found[0] if found else None


# --- payment right ---------------------------------------------------------------------------------


def set_payment_right(cur: duckdb.DuckDBPyConnection, family_id: int, value: PaymentRight, at_utc: datetime) -> None:
    cur.execute("UPDATE families SET payment_right = ?, payment_right_at = ? WHERE id = ?", [value, at_utc, family_id])


_RIGHT = f"SELECT f.id, f.name, {FAMILY_EMAIL} AS email, f.payment_right, f.payment_right_at FROM families f"


def _family_right(row: tuple) -> FamilyRight:
    family_id, name, email, right, at = row
    return FamilyRight(family_id, name, email, PaymentRight(right), at)


def family_right(db: Database, family_id: int) -> FamilyRight | None:
    found = db.row(f"{_RIGHT} WHERE f.id = ?", [family_id])
    return _family_right(found) if found else None


def payment_right_requests(db: Database) -> list[FamilyRight]:
    """Every family that asked for the right, those waiting for an answer first."""
    rows = db.rows(
        f"""{_RIGHT} WHERE f.payment_right <> {RIGHT_NONE}
           ORDER BY f.payment_right <> {RIGHT_REQUESTED}, f.payment_right_at DESC"""
    )
    return [_family_right(row) for row in rows]


# --- payment attempts ---------------------------------------------------------------------------


def transaction_by_ref(cur: duckdb.DuckDBPyConnection, ref: str) -> dict | None:
    found = dicts(cur, "SELECT * FROM payment_transactions WHERE transaction_ref = ?", [ref])
    return found[0] if found else None


def transaction_for_answer(cur: duckdb.DuckDBPyConnection, ref: str) -> dict | None:
    """What a provider's answer is checked against: the attempt's state, amount and order
    reference (its invoice's number, kept on the attempt: no join with the invoices)."""
    found = dicts(
        cur,
        """SELECT id, invoice_id, transaction_ref, order_ref, payment_ref, exer, amount_cents, state
                          FROM payment_transactions WHERE transaction_ref = ?""",
        [ref],
    )
    return found[0] if found else None


def latest_transaction_for_payment_ref(cur: duckdb.DuckDBPyConnection, payment_ref: str) -> dict | None:
    """The latest attempt sent with a payment reference: what an answer naming only that reference
    (TIPI's REFDET) is checked against, as `transaction_for_answer`."""
    found = dicts(
        cur,
        """SELECT id, invoice_id, transaction_ref, order_ref, payment_ref, exer, amount_cents, state
                          FROM payment_transactions WHERE payment_ref = ? ORDER BY created_at DESC, id DESC LIMIT 1""",
        [payment_ref],
    )
    return found[0] if found else None


def invoice_year(cur: duckdb.DuckDBPyConnection, invoice_id: int) -> int:
    """The invoice's year (its number's): PayFiP's EXER."""
    return cur.execute("SELECT year FROM invoices WHERE id = ?", [invoice_id]).fetchall()[0][0]


def transaction_by_key(cur: duckdb.DuckDBPyConnection, key: str) -> dict | None:
    found = dicts(cur, "SELECT * FROM payment_transactions WHERE idempotency_key = ?", [key])
    return found[0] if found else None


def lock_invoice(cur: duckdb.DuckDBPyConnection, invoice_id: int) -> None:
    cur.execute(
        """INSERT INTO payment_locks VALUES (?, 1)
                   ON CONFLICT (invoice_id) DO UPDATE SET version = payment_locks.version + 1""",
        [invoice_id],
    )


def pending_for_invoice(cur: duckdb.DuckDBPyConnection, invoice_id: int, since: datetime) -> dict | None:
    found = dicts(
        cur,
        """SELECT * FROM payment_transactions WHERE invoice_id = ? AND state = 'pending'
                           AND created_at > ? ORDER BY created_at DESC LIMIT 1""",
        [invoice_id, since],
    )
    return found[0] if found else None


def insert_transaction(cur: duckdb.DuckDBPyConnection, row: dict) -> None:
    if not row.get("order_ref"):
        raise ValueError("an attempt carries the order reference sent to the provider")
    columns = ", ".join(row)
    cur.execute(
        f"INSERT INTO payment_transactions ({columns}) VALUES ({', '.join('?' for _ in row)})", list(row.values())
    )


def update_transaction(
    cur: duckdb.DuckDBPyConnection,
    tx_id: int,
    state: str,
    at_utc: datetime,
    provider_data: str | None,
    message: str | None,
) -> None:
    cur.execute(
        """UPDATE payment_transactions SET state = ?, updated_at = ?, provider_data = coalesce(?, provider_data),
                  provider_message = coalesce(?, provider_message) WHERE id = ?""",
        [state, at_utc, provider_data, message, tx_id],
    )


def insert_payment(
    cur: duckdb.DuckDBPyConnection,
    invoice_id: int,
    amount_cents: int,
    paid_at_utc: datetime,
    method: str,
    transaction_id: int | None,
    user_id: int | None,
) -> int:
    """Record a payment; its id (its receipt is sent once per id)."""
    return cur.execute(
        "INSERT INTO payments (invoice_id, amount_cents, paid_at, method, transaction_id, recorded_by)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        [invoice_id, amount_cents, paid_at_utc, method, transaction_id, user_id],
    ).fetchall()[0][0]


def stale_pending(db: Database, before: datetime, family_id: int | None) -> list[dict]:
    return db.dicts(
        dialects(
            duckdb="""SELECT t.*, i.number FROM payment_transactions t JOIN invoices i ON i.id = t.invoice_id
           WHERE t.state = 'pending' AND t.created_at < $before AND ($family IS NULL OR t.family_id = $family)
           ORDER BY t.created_at""",
            postgresql="""SELECT t.*, i.number FROM payment_transactions t JOIN invoices i ON i.id = t.invoice_id
           WHERE t.state = 'pending' AND t.created_at < $before AND ($family::BIGINT IS NULL OR t.family_id = $family)
           ORDER BY t.created_at""",
        ),
        {"before": before, "family": family_id},
    )


def transaction_for_family(db: Database, ref: str, family_id: int) -> dict | None:
    found = db.dicts(
        """SELECT t.state, t.provider_message, t.invoice_id, t.payment_ref, t.exer, i.number FROM payment_transactions t
           JOIN invoices i ON i.id = t.invoice_id
           WHERE t.transaction_ref = ? AND t.family_id = ?""",
        [ref, family_id],
    )
    return found[0] if found else None
