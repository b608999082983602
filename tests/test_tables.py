"""lib/ui/tables.french: numbers as a French reader reads them, no empty cell for the grid to call "None"."""

import pandas as pd

from lib.ui.tables import french


def test_numbers_become_french_text_and_gaps_a_dash():
    frame = pd.DataFrame({"Mois": ["Septembre", "Octobre"], "Repas": [5703, None], "% présents": [93.46, None]})
    shown = french(frame, digits={"% présents": 1})
    assert shown["Mois"].tolist() == ["Septembre", "Octobre"]
    assert shown["Repas"].tolist() == ["5\u202f703", "—"]
    assert shown["% présents"].tolist() == ["93,5", "—"]
    assert not shown.isna().any().any()
