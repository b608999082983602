"""Every page through AppTest, logged in with a real session token (AppTest cannot send
cookies, so the token goes where lib.ui.session looks for it in tests)."""

import pandas as pd
import pytest

from lib.domain import fr
from lib.services import auth
from lib.ui.session import TEST_TOKEN_KEY
from tests.helpers import app_test, plotly_values, texts


def test_without_a_session_the_app_asks_to_log_in(demo_db):
    at = app_test("app.py", demo_db, None).run()
    assert not at.exception
    assert "Connectez-vous" in texts(at) and "/connexion" in texts(at)


def test_with_a_forged_token_the_app_says_the_session_expired(demo_db):
    at = app_test("app.py", demo_db, None)
    at.session_state[TEST_TOKEN_KEY] = "forged"
    at.run()
    assert "reconnectez-vous" in texts(at)
    assert "Bonjour" not in texts(at)


@pytest.mark.parametrize(
    "email, expected",
    [
        (
            "parent@demo.fr",
            [
                "Bonjour Camille Martin",
                "Léa Martin",
                "Hugo Martin",
                "ALAE anim'action",
                "Prochaines réservations",
                "non soldée",
            ],
        ),
        ("agent@demo.fr", ["Accueil agent", "Aujourd'hui", "ALAE Jean Moulin (école maternelle)", "Enfants réservés"]),
        ("cuisine@demo.fr", ["Cuisine", "Repas au total", "Chiffres définitifs"]),
        ("maire@demo.fr", ["Accueil élus", "Enfants inscrits", "Taux de présence", "2025/2026"]),
        ("admin@demo.fr", ["Administration", "Familles", "Journal d'audit"]),
    ],
)
def test_each_role_lands_on_its_home_with_real_data(demo_db, email, expected):
    at = app_test("app.py", demo_db, email).run()
    assert not at.exception, at.exception
    content = texts(at)
    for words in expected:
        assert words in content, words
    assert "inscriptions@belcastel-demo.fr" in content


def test_the_family_home_never_shows_health_details_or_other_children(demo_db):
    at = app_test("pages/famille_accueil.py", demo_db, "parent@demo.fr").run()
    content = texts(at)
    others = [r[0] for r in demo_db.rows("SELECT first_name || ' ' || last_name FROM children WHERE family_id <> 1")]
    assert not [name for name in others if name in content]
    assert "PAI" not in content


def test_the_family_home_puts_its_two_pages_and_the_payment_first(demo_db):
    at = app_test("pages/famille_accueil.py", demo_db, "parent@demo.fr").run()
    assert not at.exception, at.exception
    assert [b.label for b in at.button][:3] == [
        "Mes inscriptions",
        "Mes factures",
        "Payer 83,50\u00a0€ — octobre 2026 (F-2026-000267)",
    ]
    assert at.button(key="home_pay_F-2026-000267").icon == ":material/payments:"


def test_a_family_that_may_not_pay_online_is_shown_its_invoice_not_payer(demo_db):
    demo_db.write(lambda cur: cur.execute("UPDATE families SET payment_right = 'none' WHERE id = 1"))
    at = app_test("pages/famille_accueil.py", demo_db, "parent@demo.fr").run()
    labels = [b.label for b in at.button]
    assert "Voir la facture non soldée : 83,50\u00a0€ — octobre 2026 (F-2026-000267)" in labels
    assert not [label for label in labels if label.startswith("Payer")]


def test_the_kitchen_page_shows_diets_not_health_notes(demo_db):
    at = app_test("pages/cuisine.py", demo_db, "cuisine@demo.fr").run()
    assert not at.exception
    frame = at.dataframe[0].value  # one small table per site and service: diet, meals
    assert list(frame.columns) == ["Régime", "Repas"]
    assert "PAI panier-repas" in {d for f in at.dataframe if "Régime" in f.value.columns for d in f.value["Régime"]}
    notes = {n for row in demo_db.rows("SELECT allergies, protocol FROM child_health") for n in row if n}
    shown = texts(at) + frame.to_string() + " ".join(d.value.to_string() for d in at.dataframe)
    assert notes and not [n for n in notes if n in shown]


@pytest.mark.parametrize(
    "page, email",
    [
        ("pages/agent_accueil.py", "parent@demo.fr"),
        ("pages/cuisine.py", "parent@demo.fr"),
        ("pages/elu_accueil.py", "agent@demo.fr"),
        ("pages/admin_accueil.py", "maire@demo.fr"),
        ("pages/famille_accueil.py", "admin@demo.fr"),
    ],
)
def test_a_page_outside_the_role_refuses_even_when_run_directly(demo_db, page, email):
    at = app_test(page, demo_db, email).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Cette page n'est pas ouverte à votre profil."]


def test_a_family_cannot_reach_a_staff_page_by_url(demo_db):
    at = app_test("app.py", demo_db, "parent@demo.fr").run()
    with pytest.raises(ValueError, match="Could not find a navigation page") as err:
        at.switch_page("pages/admin_accueil.py")  # not registered for this session at all
    known = str(err.value).split("Known pages:")[1]
    assert "famille_accueil.py" in known and "mes_inscriptions.py" in known
    assert "admin" not in known and "agent" not in known
    assert "Administration" not in texts(at)


def test_the_sidebar_offers_a_logout_link_bound_to_the_session(demo_db):
    at = app_test("app.py", demo_db, "parent@demo.fr").run()
    token = at.session_state[TEST_TOKEN_KEY]
    links = [m.value for m in at.sidebar.markdown if "/auth/logout" in m.value]
    assert len(links) == 1 and f"/auth/logout?code={auth.logout_code(token)}" in links[0]
    assert token not in links[0]


def test_the_elected_chart_draws_both_years_with_a_table(demo_db):
    import json

    at = app_test("pages/elu_accueil.py", demo_db, "maire@demo.fr").run()
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = [trace["name"] for trace in spec["data"]]
    assert names == ["2025/2026", "2026/2027"]
    assert spec["data"][0]["marker"]["pattern"]["shape"] == "/"  # not colour alone
    table = at.dataframe[0].value
    assert list(table.columns) == ["Mois", "2026/2027", "2025/2026"]
    drawn = plotly_values(spec["data"][1]["y"])[0]
    assert drawn > 0 and table.iloc[0]["2026/2027"] == fr.decimal(drawn, 0)  # the same number, written French
    earlier = plotly_values(spec["data"][0]["y"])[5]
    assert earlier > 0 and table.iloc[5]["2025/2026"] == fr.decimal(earlier, 0)
    assert table.iloc[-1]["2026/2027"] == "—"  # a month to come: a dash, not "None"


ROLE_EMAILS = {
    "famille": "parent@demo.fr",
    "agent": "agent@demo.fr",
    "cuisine": "cuisine@demo.fr",
    "elu": "maire@demo.fr",
    "admin": "admin@demo.fr",
}


def _every_page():
    from lib.domain.menu import EXTRA, HOME

    for role, home in HOME.items():
        for entry in [home, *EXTRA[role]]:
            yield pytest.param(entry.file, ROLE_EMAILS[role.value], id=f"{role.value}:{entry.url_path}")


@pytest.mark.parametrize("page, email", list(_every_page()))
def test_every_table_reads_the_french_way(demo_db, page, email):
    """What a data grid shows for a cell: a float as 93.4 and any empty cell as "None", in English.
    Every table of every page carries French strings or whole numbers, and no empty cell."""
    at = app_test(page, demo_db, email).run()
    assert not at.exception, at.exception
    for frame in (element.value for element in at.dataframe):
        for column in frame.columns:
            values = frame[column]
            assert not pd.api.types.is_float_dtype(values), (page, column, "shown as 93.4")
            assert not values.isna().any(), (page, column, 'an empty cell shown as "None"')
