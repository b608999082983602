"""The payment routes end to end through Starlette's test client: departure, the sandbox bank,
its notification, the browser's return; and what forged or replayed requests get."""

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from lib.services import payments
from lib.services.demo_marks import SANDBOXES
from lib.web import payment_routes
from lib.web.routes import ROUTES, RequireLogin
from tests.helpers import KEY, hidden_fields, post_login, unpaid_id
from tests.payment_providers import use_provider


@pytest.fixture(autouse=True)
def systempay_sandbox(demo_db):
    """These tests walk the Systempay test bank, the demo's second backend (PayFiP's: test_payment_payfip.py)."""
    use_provider(demo_db, *SANDBOXES["systempay"])


@pytest.fixture
def client(demo_path, monkeypatch):
    app = Starlette(
        routes=[*ROUTES, *payment_routes.ROUTES, Route("/{page}", lambda r: PlainTextResponse("app"))],
        middleware=[Middleware(RequireLogin)],
    )
    with TestClient(app, base_url="http://127.0.0.1:8501") as c:
        notified = []

        def notify(url, query):  # the bank calls our notification route: here, through the test client
            notified.append(
                c.post(urlsplit(url).path, content=query, headers={"content-type": "application/x-www-form-urlencoded"})
            )

        monkeypatch.setattr(payment_routes, "_notify", notify)
        c.notified = notified
        yield c


def go_to_bank(client, db):
    post_login(client, "parent@demo.fr", "demo")
    token = client.cookies["pf_session"]
    depart = client.get(payments.departure_link(token, unpaid_id(db), KEY))
    assert depart.status_code == 200 and "Continuer vers la page de paiement" in depart.text
    assert 'action="http://127.0.0.1:8501/paiement/sandbox"' in depart.text
    bank = client.post("/paiement/sandbox", data=hidden_fields(depart.text))
    assert bank.status_code == 200 and "Banque de test" in bank.text and "83,50" in bank.text
    return re.search(r'name="request" value="([^"]+)"', bank.text)[1], depart


def test_round_trip_notification_then_return_records_one_payment(client, demo_db):
    request_id, _ = go_to_bank(client, demo_db)
    back = client.post(
        "/paiement/sandbox/decision", data={"request": request_id, "decision": "pay"}, follow_redirects=False
    )
    assert back.status_code == 303 and back.headers["location"].startswith("http://127.0.0.1:8501/paiement/retour?")
    assert [n.text for n in client.notified] == ["OK: paid"]
    returned = client.get(
        urlsplit(back.headers["location"])._replace(scheme="", netloc="").geturl(), follow_redirects=False
    )
    assert returned.status_code == 303 and returned.headers["location"].startswith("/mes-factures?transaction=")
    assert demo_db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [unpaid_id(demo_db)]) == 1
    # Replaying the return (a reload, a back button) changes nothing.
    again = client.get(
        urlsplit(back.headers["location"])._replace(scheme="", netloc="").geturl(), follow_redirects=False
    )
    assert again.status_code == 303
    assert demo_db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [unpaid_id(demo_db)]) == 1
    # A tampered return is refused with a French page, and nothing more is recorded.
    tampered = back.headers["location"].replace("vads_amount=8350", "vads_amount=1")
    refused = client.get(urlsplit(tampered)._replace(scheme="", netloc="").geturl())
    assert refused.status_code == 400 and "rien n'a été enregistré" in unescape(refused.text)
    assert demo_db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [unpaid_id(demo_db)]) == 1


def test_a_double_click_serves_the_same_form_again(client, demo_db):
    _, first = go_to_bank(client, demo_db)
    token = client.cookies["pf_session"]
    second = client.get(payments.departure_link(token, unpaid_id(demo_db), KEY))
    assert hidden_fields(second.text) == hidden_fields(first.text)
    other_tab = client.get(payments.departure_link(token, unpaid_id(demo_db), "another-tab-key-12345"))
    assert other_tab.status_code == 409 and "déjà en cours" in unescape(other_tab.text)


def test_refused_payment_says_so_and_leaves_the_invoice_unpaid(client, demo_db):
    request_id, _ = go_to_bank(client, demo_db)
    back = client.post(
        "/paiement/sandbox/decision", data={"request": request_id, "decision": "refuse"}, follow_redirects=False
    )
    client.get(urlsplit(back.headers["location"])._replace(scheme="", netloc="").geturl(), follow_redirects=False)
    assert demo_db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [unpaid_id(demo_db)]) == 0
    assert (
        demo_db.value("SELECT state FROM payment_transactions WHERE invoice_id = ?", [unpaid_id(demo_db)]) == "refused"
    )


@pytest.mark.parametrize(
    "body, status",
    [
        (
            "vads_amount=8350&signature=x&vads_ctx_mode=TEST&vads_auth_result=00&vads_trans_date=1&vads_trans_id=abcdef",
            400,
        ),
        ("nothing=here", 400),
        ("", 400),
    ],
)
def test_forged_notifications_get_a_4xx_and_change_nothing(client, demo_db, body, status):
    before = demo_db.rows("SELECT * FROM payments ORDER BY id")
    answer = client.post(
        "/paiement/notification", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == status and answer.text.startswith("KO")
    assert demo_db.rows("SELECT * FROM payments ORDER BY id") == before
    assert demo_db.value("SELECT count(*) FROM audit_log WHERE action = 'payment.rejected'") == 1


def test_departure_needs_the_session_and_its_code(client, demo_db):
    anonymous = client.get(f"/paiement/depart?facture={unpaid_id(demo_db)}&cle={KEY}&code=x", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/connexion")
    post_login(client, "parent@demo.fr", "demo")
    forged = client.get(f"/paiement/depart?facture={unpaid_id(demo_db)}&cle={KEY}&code=0000")
    assert forged.status_code == 400 and "Lien de paiement invalide" in forged.text
    token = client.cookies["pf_session"]
    other = demo_db.value("SELECT min(id) FROM invoices WHERE family_id = 2")
    refused = client.get(payments.departure_link(token, other, KEY))
    assert refused.status_code == 409 and "Facture introuvable" in refused.text
    assert demo_db.value("SELECT count(*) FROM payment_transactions WHERE state = 'pending'") == 0


def test_the_sandbox_is_closed_when_the_town_uses_a_real_provider(client, demo_db):
    demo_db.write(lambda cur: cur.execute("UPDATE settings SET value = '0' WHERE key = 'payment_sandbox'"))
    assert client.post("/paiement/sandbox", data={"a": "b"}).status_code == 404
    assert client.post("/paiement/sandbox/decision", data={"request": "x", "decision": "pay"}).status_code == 404


def test_the_sandbox_checks_the_merchant_signature(client, demo_db):
    _, depart = go_to_bank(client, demo_db)
    fields = dict(hidden_fields(depart.text), vads_amount="1")
    answer = client.post("/paiement/sandbox", data=fields)
    assert answer.status_code == 400 and "signature du commerçant invalide" in unescape(answer.text)
