"""Set-based loads: a whole DataFrame in one INSERT … SELECT, never a loop of single rows."""

from __future__ import annotations

import itertools

import duckdb
import pandas as pd

_names = itertools.count()


def insert_frame(cur: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    """Insert every row of `frame` into `table` (columns matched by name)."""
    if frame.empty:
        return 0
    view = f"_bulk_{table}_{next(_names)}"
    cur.register(view, frame)
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    try:
        cur.execute(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM "{view}"')
    except duckdb.Error:
        # The transaction is aborted now: unregistering would raise a second, misleading error.
        raise
    cur.unregister(view)
    return len(frame)
