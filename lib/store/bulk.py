"""Set-based loads: a whole DataFrame in one INSERT … SELECT, never a loop of single rows."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import duckdb
import pandas as pd

from lib.store.sql import dialects

_names = itertools.count()


@contextmanager
def registered(cur: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> Iterator[str]:
    """`frame` visible to SQL under the yielded name for the block. On an error the view is left
    for the connection to drop: unregistering inside an aborted transaction would raise a
    second error that hides the first.

    DuckDB reads the DataFrame where it is; on PostgreSQL (`PgCursor.load_frame`) its rows are
    copied into a temporary table of the transaction (COPY), dropped at its end."""
    view = f"_frame_{next(_names)}"
    if hasattr(cur, "load_frame"):
        cur.load_frame(view, frame)
        yield view
        return
    cur.register(view, frame)
    yield view
    cur.unregister(view)


def insert_frame(cur: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    """Insert every row of `frame` into `table` (columns matched by name)."""
    if frame.empty:
        return 0
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    with registered(cur, frame) as view:
        cur.execute(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM "{view}"')
    return len(frame)


# Each table's id sequence.
_SEQUENCES = {
    "sites": "seq_sites",
    "services": "seq_services",
    "families": "seq_families",
    "children": "seq_children",
    "users": "seq_users",
    "registrations": "seq_registrations",
    "payment_transactions": "seq_payment_transactions",
}
# The tables a town's bulk load fills with ids of its own choosing.
LOADED_WITH_IDS = ("sites", "services", "families", "children", "users", "registrations")


def continue_sequences(cur: duckdb.DuckDBPyConnection, tables: Iterable[str] = LOADED_WITH_IDS) -> None:
    """After a bulk load that chose its own ids, make each id sequence continue after them. Once
    per table and load: drawing again would leave a gap."""
    for table in tables:
        top = cur.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchall()[0][0]
        cur.execute(_CONTINUE.format(sequence=_SEQUENCES[table]), {"top": top}).fetchall()


# DuckDB has no setval: a fresh sequence starts at 1, so drawing `top` values makes the next one top + 1.
_CONTINUE = dialects(
    duckdb="SELECT max(nextval('{sequence}')) FROM range($top)",
    postgresql="SELECT setval('{sequence}', greatest($top::bigint, 1), $top::bigint > 0)",
)
