"""« Cuisine », « Pointage », « Tendances » through AppTest; chart data read from the plotly spec."""

import json
from datetime import date

import pytest

from lib.domain import fr
from tests.helpers import app_test, plotly_values, texts


def test_kitchen_page_counts_match_the_chart(demo_db):
    at = app_test("pages/cuisine.py", demo_db, "cuisine@demo.fr").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="kitchen_day").value == date(2026, 11, 27)  # Friday morning: today's sheet
    assert "Chiffres définitifs" in texts(at)
    total = next(int(m.value) for m in at.metric if m.label == "Repas au total")
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    stacked = sum(
        plotly_values(trace["y"])[trace["x"].index("2026-11-27")]
        for trace in figure["data"]
        if trace["type"] == "bar" and "2026-11-27" in trace["x"]
    )
    assert stacked == total > 0
    assert [t["name"] for t in figure["data"] if t["type"] == "bar"] == [
        "ALAE Jean Moulin (école maternelle)",
        "ALAE Claude Nougaro (école élémentaire)",
        "ALAE anim'action",
    ]
    at.radio(key="kitchen_stack").set_value("Régime").run()
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {t["name"] for t in figure["data"] if t["type"] == "bar"} == {
        "Standard",
        "Sans porc",
        "Végétarien",
        "PAI panier-repas",
    }
    assert all(t["marker"].get("pattern", {}).get("shape", "") != "" for t in figure["data"][1:] if t["type"] == "bar")


def test_kitchen_page_provisional_day_and_bad_range(demo_db):
    at = app_test("pages/cuisine.py", demo_db, "cuisine@demo.fr")
    at.run()
    at.selectbox(key="kitchen_day").set_value(date(2026, 12, 10)).run()
    assert "Chiffres provisoires" in texts(at)
    at.selectbox(key="kitchen_from").set_value(date(2026, 12, 31)).run()
    assert "précède" in at.error[0].value


def test_pointage_marks_children_on_a_tablet(demo_db):
    at = app_test("pages/pointage.py", demo_db, "agent@demo.fr").run()
    assert not at.exception, at.exception
    assert "enfant(s) attendu(s)" in texts(at)
    at.button(key="check_all_present").click().run()
    assert not at.exception and not at.error
    assert at.success[0].value.startswith("Pointage enregistré")
    booked = demo_db.value(
        "SELECT count(*) FROM bookings WHERE day = DATE '2026-11-27' AND site_id = 1 AND "
        "service_id = 1 AND state = 'booked'"
    )
    assert (
        demo_db.value(
            "SELECT count(*) FROM attendance WHERE day = DATE '2026-11-27' AND site_id = 1 AND status = 'present'"
        )
        == booked
    )
    # Everyone is pointed now: the table shows it, and saving it again changes nothing.
    assert set(at.dataframe[0].value["Présence"]) == {"Présent"}
    at.button(key="check_save").click().run()
    assert at.success[-1].value == "Aucun changement : le pointage était déjà celui-ci."


def test_trends_page_draws_both_years_with_numbers(demo_db):
    at = app_test("pages/tendances.py", demo_db, "maire@demo.fr").run()
    assert not at.exception, at.exception
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == 4
    rate = charts[0]
    assert [t["name"] for t in rate["data"]] == ["2025/2026", "2026/2027", "2026/2027 (mois en cours)"]
    assert [t["marker"]["symbol"] for t in rate["data"]] == ["square", "circle", "circle-open"]  # not colour alone
    assert rate["layout"]["yaxis"]["rangemode"] == "tozero"
    table = at.dataframe[0].value
    september = table.iloc[0]
    assert september["Période"] == "Septembre"
    # The table says what the chart draws, the French way (93,4).
    assert september["% présents 2026/2027"] == fr.decimal(plotly_values(rate["data"][1]["y"])[0])
    assert "," in september["% présents 2026/2027"]
    assert "Familles qui réservent en ligne" in texts(at) and "Reste à encaisser" in texts(at)
    at.radio(key="trends_grain").set_value("week").run()
    assert at.dataframe[0].value.iloc[0]["Période"] == "Semaine du 31 août"  # the school year's first week
    assert "Semaine du 23 novembre (semaine en cours)" in at.dataframe[0].value["Période"].tolist()


@pytest.mark.parametrize(
    "page, email",
    [
        ("pages/pointage.py", "parent@demo.fr"),
        ("pages/pointage.py", "maire@demo.fr"),
        ("pages/pointage.py", "cuisine@demo.fr"),
        ("pages/tendances.py", "parent@demo.fr"),
        ("pages/tendances.py", "agent@demo.fr"),
        ("pages/cuisine.py", "maire@demo.fr"),
    ],
)
def test_pages_closed_to_other_roles(demo_db, page, email):
    at = app_test(page, demo_db, email).run()
    assert [e.value for e in at.error] == ["Cette page n'est pas ouverte à votre profil."]
