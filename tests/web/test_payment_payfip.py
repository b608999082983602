"""The demo's PayFiP end to end over HTTP: the departure redirects to the local PayFiP's page (the
idop created over SOAP), the payer decides, PayFiP notifies the portal server to server and sends
the browser back. The portal's public address is a real server (our payment routes in a thread), so
eopayment's zeep client, the sandbox's notification and the status calls all travel over HTTP."""

from html import unescape
from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from lib.payments import payfip_sandbox
from lib.services import payments
from lib.web import payment_routes
from lib.web.routes import ROUTES, RequireLogin
from tests.helpers import KEY, hidden_fields, post_login, unpaid_id
from tests.payment_providers import creer, served_payment_routes

UNPAID_REF = "F2026000267"


@pytest.fixture(scope="module")
def port():
    with served_payment_routes() as served:
        yield served


@pytest.fixture
def client(demo_path, port, monkeypatch):
    monkeypatch.setenv(payments.PUBLIC_URL_ENV, f"http://127.0.0.1:{port}")
    app = Starlette(
        routes=[*ROUTES, *payment_routes.ROUTES, Route("/{page}", lambda r: PlainTextResponse("app"))],
        middleware=[Middleware(RequireLogin)],
    )
    # The test client's requests arrive as if on the live server's port: the portal reaches its own
    # PayFiP there, as the real server reaches itself on the port it serves on.
    with TestClient(app, base_url=f"http://127.0.0.1:{port}") as c:
        yield c


def local(url: str) -> str:
    return urlsplit(url)._replace(scheme="", netloc="").geturl()


def depart(client, db, key=KEY):
    post_login(client, "parent@demo.fr", "demo")
    return client.get(payments.departure_link(client.cookies["pf_session"], unpaid_id(db), key), follow_redirects=False)


def payments_of_unpaid(db) -> int:
    return db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [unpaid_id(db)])


def test_pay_on_payfip_notification_then_return(client, demo_db, port):
    left = depart(client, demo_db)
    assert left.status_code == 303
    assert left.headers["location"].startswith(f"http://127.0.0.1:{port}/paiement/payfip?idop=")
    idop = left.headers["location"].split("idop=", 1)[1]
    page = client.get(local(left.headers["location"]))
    text = unescape(page.text)
    assert page.status_code == 200 and "PayFiP (test)" in text and "83,50" in text
    assert UNPAID_REF in text and "2026" in text and "parent@demo.fr" in text
    back = client.post("/paiement/payfip/decision", data={"idop": idop, "decision": "pay"}, follow_redirects=False)
    assert (
        back.status_code == 303 and back.headers["location"] == f"http://127.0.0.1:{port}/paiement/retour?idop={idop}"
    )
    # PayFiP's notification reached the portal (over HTTP) before the browser came back: paid.
    assert payments_of_unpaid(demo_db) == 1
    assert demo_db.value("SELECT after FROM audit_log WHERE action = 'payment.paid'").count('"notification"') == 1
    returned = client.get(local(back.headers["location"]), follow_redirects=False)
    assert returned.status_code == 303 and returned.headers["location"] == f"/mes-factures?transaction={idop}"
    assert payments_of_unpaid(demo_db) == 1  # the return replays the answer: nothing more
    # A decided idop cannot be decided again, nor its page shown.
    assert client.post("/paiement/payfip/decision", data={"idop": idop, "decision": "refuse"}).status_code == 400
    assert client.get(f"/paiement/payfip?idop={idop}").status_code == 404


def test_a_refusal_on_payfip_leaves_the_invoice_unpaid(client, demo_db):
    idop = depart(client, demo_db).headers["location"].split("idop=", 1)[1]
    back = client.post("/paiement/payfip/decision", data={"idop": idop, "decision": "refuse"}, follow_redirects=False)
    client.get(local(back.headers["location"]), follow_redirects=False)
    assert payments_of_unpaid(demo_db) == 0
    assert demo_db.value("SELECT state FROM payment_transactions WHERE transaction_ref = ?", [idop]) == "refused"


def test_a_double_click_goes_to_the_same_idop(client, demo_db):
    first = depart(client, demo_db)
    second = client.get(
        payments.departure_link(client.cookies["pf_session"], unpaid_id(demo_db), KEY), follow_redirects=False
    )
    assert first.headers["location"] == second.headers["location"]


@pytest.mark.parametrize(
    "body", ["idop=00000000000000000000000000000000", "idop=x&resultrans=P&montant=8350", "resultrans=P", ""]
)
def test_forged_payfip_notifications_get_a_4xx_and_change_nothing(client, demo_db, body):
    before = demo_db.rows("SELECT * FROM payments ORDER BY id")
    answer = client.post(
        "/paiement/notification", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert 400 <= answer.status_code < 500 and answer.text.startswith("KO")
    assert demo_db.rows("SELECT * FROM payments ORDER BY id") == before
    assert demo_db.value("SELECT count(*) FROM audit_log WHERE action = 'payment.rejected'") == 1


def test_without_an_email_the_departure_asks_one_for_the_receipt(client, demo_db, port):
    demo_db.write(
        lambda cur: [
            cur.execute("UPDATE guardians SET email = NULL WHERE family_id = 1"),
            cur.execute("UPDATE families SET email = NULL WHERE id = 1"),
        ]
    )
    asked = depart(client, demo_db)
    assert asked.status_code == 200 and 'name="mel"' in asked.text and "reçu" in unescape(asked.text)
    form = hidden_fields(asked.text)
    assert form["facture"] == str(unpaid_id(demo_db)) and form["cle"] == KEY
    bad = client.post("/paiement/depart", data=dict(form, mel="pas-une-adresse"), follow_redirects=False)
    assert (
        bad.status_code == 400
        and "Adresse e-mail invalide" in unescape(bad.text)
        and 'value="pas-une-adresse"' in bad.text
    )
    assert demo_db.value("SELECT count(*) FROM payment_transactions WHERE state = 'pending'") == 0
    assert 'aria-invalid="true"' in bad.text
    forged = client.post("/paiement/depart", data=dict(form, code="0000", mel="payeur@exemple.fr"))
    assert forged.status_code == 400
    left = client.post("/paiement/depart", data=dict(form, mel="payeur@exemple.fr"), follow_redirects=False)
    assert left.status_code == 303
    idop = left.headers["location"].split("idop=", 1)[1]
    assert payfip_sandbox.BANK.operation(idop).mel == "payeur@exemple.fr"
    assert demo_db.value("SELECT count(*) FROM guardians WHERE email = 'payeur@exemple.fr'") == 0


def test_the_payfip_sandbox_is_closed_when_the_town_uses_the_real_one(client, demo_db):
    demo_db.write(lambda cur: cur.execute("UPDATE settings SET value = '0' WHERE key = 'payment_sandbox'"))
    assert client.post("/paiement/payfip/soap", content=b"<x/>").status_code == 404
    assert client.get("/paiement/payfip?idop=x").status_code == 404
    assert client.post("/paiement/payfip/decision", data={"idop": "x", "decision": "pay"}).status_code == 404


def test_the_payfip_sandbox_refuses_return_addresses_outside_the_portal(client, demo_db, port):
    portal = f"http://127.0.0.1:{port}"
    known = set(payfip_sandbox.BANK._operations)
    elsewhere = client.post("/paiement/payfip/soap", content=creer("http://10.0.0.1/", f"{portal}/paiement/retour"))
    assert elsewhere.status_code == 500 and "<code>R7</code>" in elsewhere.text
    assert set(payfip_sandbox.BANK._operations) == known
    ours = client.post(
        "/paiement/payfip/soap", content=creer(f"{portal}/paiement/notification", f"{portal}/paiement/retour")
    )
    assert ours.status_code == 200 and "idOp" in ours.text


def test_a_departure_never_waits_for_a_thread_its_own_payfip_needs(client, demo_db, port, monkeypatch):
    """The real server's case: the departure, served by the process, calls the same process's SOAP
    service. With a single thread for departures, the SOAP service must not need one from that pool
    (it would wait until the departure gives up: a deadlock cut by the timeout)."""
    import http.client
    import time

    monkeypatch.setattr(payment_routes.PROVIDER_CALLS, "total_tokens", 1)
    post_login(client, "parent@demo.fr", "demo")
    link = payments.departure_link(client.cookies["pf_session"], unpaid_id(demo_db), KEY)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    began = time.monotonic()
    connection.request("GET", link, headers={"Cookie": f"pf_session={client.cookies['pf_session']}"})
    answer = connection.getresponse()
    assert answer.status == 303 and "/paiement/payfip?idop=" in answer.getheader("location")
    assert time.monotonic() - began < 5  # far from provider.SERVICE_TIMEOUT_S
