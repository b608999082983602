"""Tables as a French reader sees them. Streamlit's data grid writes 93.4 for a float and "None"
for an empty cell, whatever the dtype; these turn numbers into French text first."""

from __future__ import annotations

import pandas as pd

from lib.domain import fr


def french(frame: pd.DataFrame, *, digits: dict[str, int] | None = None) -> pd.DataFrame:
    """Every numeric column as text: '5 703', '93,4' (digits per column, 0 by default); empty → '—'."""
    digits = digits or {}
    shown = frame.copy()
    for column in shown.columns:
        values = shown[column]
        if (
            pd.api.types.is_numeric_dtype(values)
            or values.map(lambda v: v is None or isinstance(v, (int, float))).all()
        ):
            shown[column] = [fr.decimal(None if pd.isna(v) else float(v), digits.get(column, 0)) for v in values]
    return shown
