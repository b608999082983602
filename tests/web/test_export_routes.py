import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient

from lib.web import export_routes
from lib.web.routes import ROUTES, RequireLogin
from tests.web.test_login_routes import post_login


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
    assert demo_db.value("SELECT count(*) FROM kitchen_prints WHERE day = DATE '2026-11-30'") == 1
    pdf = client.get("/export/cuisine.pdf?jour=2026-11-30")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


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
