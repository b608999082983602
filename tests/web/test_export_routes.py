from datetime import date

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient

from lib.services import kitchen
from lib.web import export_routes
from lib.web.routes import ROUTES, RequireLogin
from tests.conftest import DEMO_NOW, login
from tests.helpers import post_login


@pytest.fixture
def client(demo_path):
    app = Starlette(routes=[*ROUTES, *export_routes.ROUTES], middleware=[Middleware(RequireLogin)])
    with TestClient(app, base_url="http://127.0.0.1:8501") as c:
        yield c


def test_the_kitchen_downloads_the_sheet(client, demo_db):
    post_login(client, "cuisine@demo.fr", "demo")
    csv = client.get("/export/cuisine.csv?jour=2026-11-30")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert 'filename="repas-2026-11-30.csv"' in csv.headers["content-disposition"]
    text = csv.content.decode("utf-8-sig")
    assert text.startswith("Jour;Structure;Prestation;Régime;Repas") and "TOTAL" in text
    pdf = client.get("/export/cuisine.pdf?jour=2026-11-30")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # A download is not a print: only the « Cuisine » page's buttons move the baseline.
    assert demo_db.value("SELECT count(*) FROM kitchen_prints") == 0


def test_a_cross_site_link_does_not_move_the_changes_since_the_last_print(client, demo_db):
    post_login(client, "cuisine@demo.fr", "demo")
    # What a link on another site sends with the cook's (SameSite=Lax) cookie: a top-level GET.
    answer = client.get(
        "/export/cuisine.csv?jour=2026-11-30",
        headers={"Referer": "https://evil.example/", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"},
    )
    assert answer.status_code == 200
    assert demo_db.value("SELECT count(*) FROM kitchen_prints") == 0
    cook = login(demo_db, "cuisine@demo.fr")
    assert kitchen.sheet(demo_db, cook, date(2026, 11, 30), DEMO_NOW).printed_at is None


def test_a_post_without_a_csrf_token_is_refused_and_writes_nothing(client, demo_db):
    post_login(client, "cuisine@demo.fr", "demo")
    for kind in ("csv", "pdf"):
        answer = client.post(
            f"/export/cuisine.{kind}", data={"jour": "2026-11-30"}, headers={"Origin": "https://evil.example"}
        )
        assert answer.status_code == 405
    assert demo_db.value("SELECT count(*) FROM kitchen_prints") == 0


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "2000-01-03", "2040-01-09"])
def test_a_day_outside_the_school_years_gets_a_french_400(client, demo_db, day):
    post_login(client, "cuisine@demo.fr", "demo")
    for kind in ("csv", "pdf"):
        answer = client.get(f"/export/cuisine.{kind}?jour={day}")
        assert answer.status_code == 400
        assert answer.text == (
            "Jour hors des années scolaires connues : choisissez un jour du 01/09/2025 au 02/07/2027."
        )
    assert demo_db.value("SELECT count(*) FROM kitchen_prints") == 0


@pytest.mark.parametrize("email", ["parent@demo.fr", "maire@demo.fr"])
def test_families_and_the_mayor_get_no_export(client, demo_db, email):
    post_login(client, email, "demo")
    answer = client.get("/export/cuisine.csv?jour=2026-11-30")
    assert answer.status_code == 403 and "n'est pas ouverte à votre profil" in answer.text
    assert demo_db.value("SELECT count(*) FROM kitchen_prints") == 0


def test_a_forged_session_or_bad_input_gets_nothing(client, demo_db):
    client.cookies.set("pf_session", "forged")
    assert client.get("/export/cuisine.csv?jour=2026-11-30").status_code == 403
    client.cookies.clear()
    post_login(client, "cuisine@demo.fr", "demo")
    assert client.get("/export/cuisine.csv?jour=30/11/2026").status_code == 400
    assert client.get("/export/cuisine.xls?jour=2026-11-30").status_code == 404
    assert demo_db.value("SELECT count(*) FROM kitchen_prints") == 0
