"""Contract tests: each eopayment backend a town may configure, its provider's answers — genuine,
forged, unsigned, for a wrong amount, replayed, late — through the one handler, record_answer.
PayFiP's run eopayment's real zeep client against our local PayFiP, served for real."""

import json
from datetime import timedelta

import pytest

from lib.domain.errors import InvalidInput
from lib.domain.invoicing import PayerEmailNeeded, PaymentRefused, TxState, payment_reference
from lib.payments import payfip_sandbox, provider
from lib.payments.sandbox import BANK
from lib.services import payments
from tests.conftest import DEMO_NOW
from tests.payment_providers import (
    BACKENDS,
    ELSEWHERE,
    PROVIDER,
    Paybox,
    Payfip,
    Said,
    creer,
    fields,
    served_payment_routes,
    use_provider,
)

KEY = "p" * 24


@pytest.fixture(scope="module")
def port():
    with served_payment_routes() as served:
        yield served


@pytest.fixture(autouse=True)
def public_address(port, monkeypatch):
    """The portal's public address: the reconciliation (no request, no port) asks PayFiP through it."""
    monkeypatch.setenv(payments.PUBLIC_URL_ENV, f"http://127.0.0.1:{port}")


@pytest.fixture(params=list(BACKENDS))
def backend(request, db, port, monkeypatch):
    chosen = BACKENDS[request.param]()
    chosen.configure(db, port)
    if request.param == "paybox":
        chosen.point_eopayment_at(monkeypatch)
    return chosen


@pytest.fixture
def parent(town):
    return town.login(town.parent_a)


def start(db, parent, invoice, port, key=KEY, **kwargs):
    return payments.start_payment(db, parent, invoice, key, port, DEMO_NOW, **kwargs)


def record(db, said: Said, port, now=DEMO_NOW):
    """record_answer, as the route would call it (its port: the portal's address without a public one)."""
    return payments.record_answer(db, said.query, said.source, now, address=said.address, served_port=port)


def money(db):
    return (
        db.rows("SELECT * FROM payments ORDER BY id"),
        db.rows("SELECT id, state, provider_data FROM payment_transactions ORDER BY id"),
    )


def rejected(db):
    """Audit rows of rejected answers: (entity_id, count, reason)."""
    rows = db.rows("SELECT entity_id, after, reason FROM audit_log WHERE action = 'payment.rejected' ORDER BY id")
    return [(entity_id, json.loads(after).get("count"), reason) for entity_id, after, reason in rows]


def test_the_attempt_carries_the_payment_reference_and_year(db, parent, unpaid, october, backend, port):
    started = start(db, parent, unpaid, port)
    assert (started.payment_ref, started.exer, started.amount_cents) == (
        payment_reference(october.number),
        int(october.number.split("-")[1]),
        october.total_cents,
    )
    stored = db.row(
        "SELECT payment_ref, exer FROM payment_transactions WHERE transaction_ref = ?", [started.transaction_ref]
    )
    assert stored == (started.payment_ref, started.exer)
    # The departure eopayment asked for: PayFiP and TIPI redirect, Systempay and Paybox post a form.
    assert started.kind == ("url" if backend.name in ("payfip_ws", "tipi") else "form")


def test_a_genuine_paid_answer_is_recorded_once_and_a_replay_is_harmless(db, parent, unpaid, backend, port):
    started = start(db, parent, unpaid, port)
    said = backend.answer(db, started)
    first = record(db, said, port)
    assert first.changed and first.state is TxState.PAID
    assert not record(db, said, port).changed
    assert db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [unpaid]) == 1
    outcome = payments.outcome_for_family(db, parent, started.transaction_ref)
    assert outcome.message.endswith(f"Référence de paiement : {started.payment_ref} (exercice {started.exer}).")
    assert db.value("SELECT count(*) FROM audit_log WHERE action = 'payment.paid'") == 1
    with pytest.raises(PaymentRefused, match="déjà soldée"):
        start(db, parent, unpaid, port, key="after-paid-key-123456789")


@pytest.mark.parametrize("decision, state", [("refuse", TxState.REFUSED), ("cancel", TxState.CANCELLED)])
def test_a_refusal_leaves_the_invoice_to_pay(db, parent, unpaid, backend, port, decision, state):
    started = start(db, parent, unpaid, port)
    recorded = record(db, backend.answer(db, started, decision), port)
    # eopayment reads a PayFiP cancellation as "still waiting" for its first minutes (the payer may
    # come back to the idop): the attempt stays pending until PayFiP says more, nothing is paid.
    expected = TxState.PENDING if (backend.name, decision) == ("payfip_ws", "cancel") else state
    assert recorded.state is expected
    assert db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [unpaid]) == 0


def test_forged_and_unsigned_answers_change_nothing_and_are_counted(db, parent, unpaid, backend, port):
    started = start(db, parent, unpaid, port)
    genuine = backend.answer(db, started)
    before = money(db)
    forged = backend.forged(db, genuine)
    for minute, (what, said) in enumerate(forged.items()):
        with pytest.raises(payments.AnswerRejected) as caught:
            record(db, said, port, DEMO_NOW + timedelta(minutes=minute))  # a minute apart: each count is written
        assert 400 <= caught.value.status < 500, what
    assert money(db) == before
    # Anonymous rejections are counted per address and window (payments.RejectionTally).
    assert sum(count for _, count, _ in rejected(db)) == len(forged)
    assert record(db, genuine, port).state is TxState.PAID  # the genuine one still goes through


def test_a_genuine_answer_for_another_amount_is_refused_and_audited(db, parent, unpaid, october, backend, port):
    started = start(db, parent, unpaid, port)
    said = backend.with_amount(db, backend.answer(db, started), 100)
    before = money(db)
    with pytest.raises(payments.AnswerRejected, match=f"montant 100 ≠ {october.total_cents}") as caught:
        record(db, said, port)
    assert caught.value.status == 400
    assert money(db) == before
    assert [reason for _, _, reason in rejected(db)] == [f"montant 100 ≠ {october.total_cents} attendus"]


def test_a_paid_answer_after_our_expiry_is_still_recorded(db, parent, unpaid, backend, port):
    started = start(db, parent, unpaid, port)
    said = backend.answer(db, started)
    late = DEMO_NOW + payments.config(db).attempt_lifetime + timedelta(minutes=5)
    if backend.name == "payfip_ws":
        # PayFiP's status service knows the payment: the reconciliation records it at once.
        assert payments.reconcile(db, late) == 1
    else:
        BANK._answers.pop(started.transaction_ref, None)  # the Systempay sandbox keeps answers: not this one
        assert payments.reconcile(db, late) == 1  # no answer reached us: the attempt expired
        assert (
            db.value("SELECT state FROM payment_transactions WHERE id = (SELECT max(id) FROM payment_transactions)")
            == "expired"
        )
        recorded = record(db, said, port, late)
        assert recorded.changed and recorded.state is TxState.PAID
    assert db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [unpaid]) == 1
    assert not record(db, said, port, late).changed


# --- Paybox ------------------------------------------------------------------------------------------


@pytest.fixture
def paybox(db, port, monkeypatch):
    chosen = Paybox()
    chosen.configure(db, port)
    chosen.point_eopayment_at(monkeypatch)
    return chosen


def test_paybox_an_answer_signed_by_paybox_is_not_proof_of_payment_in_production(
    db, parent, unpaid, paybox, port, monkeypatch
):
    """Paybox signs every merchant's answers with one key and names no merchant in them: our
    reference and amount, paid to another Paybox merchant, come back signed all the same."""
    started = start(db, parent, unpaid, port)
    said = paybox.answer(db, started)
    monkeypatch.setenv("PORTAIL_MODE", "production")
    before = money(db)
    with pytest.raises(payments.AnswerRejected, match=r"PPPS\) n'est pas disponible ; utilisez PayFiP ou Systempay"):
        record(db, said, port)
    assert money(db) == before
    with pytest.raises(PaymentRefused, match="Le paiement en ligne n'est pas disponible"):
        start(db, parent, unpaid, port, key="production-paybox-key-123")


def test_paybox_a_test_payment_is_refused_unless_the_town_is_on_its_preproduction(db, parent, unpaid, paybox, port):
    started = start(db, parent, unpaid, port)
    tested = paybox.answer(db, started)  # Paybox's pre-production authorises with "XXXXXX"
    use_provider(db, "paybox", dict(Paybox.options, platform="prod"))
    before = money(db)
    with pytest.raises(payments.AnswerRejected, match="paiement de test de Paybox"):
        record(db, tested, port)
    assert money(db) == before
    values = {k: v for k, v in fields(tested.query).items() if k != "signature"}
    genuine = Said(paybox._signed(dict(values, code_autorisation="A1B2C3")), "retour")
    assert record(db, genuine, port).state is TxState.PAID


# --- PayFiP ------------------------------------------------------------------------------------------


@pytest.fixture
def payfip(db, port):
    chosen = Payfip()
    chosen.configure(db, port)
    return chosen


def test_payfip_departure_is_a_redirect_to_its_page_with_the_idop(db, parent, unpaid, october, payfip, port):
    started = start(db, parent, unpaid, port)
    assert started.url == f"http://127.0.0.1:{port}/paiement/payfip?idop={started.transaction_ref}"
    operation = payfip_sandbox.BANK.operation(started.transaction_ref)
    assert (operation.refdet, operation.exer, operation.montant, operation.mel) == (
        payment_reference(october.number),
        str(started.exer),
        str(october.total_cents),
        october.email,
    )
    assert operation.urlnotif == f"http://127.0.0.1:{port}/paiement/notification"
    assert operation.urlredirect == f"http://127.0.0.1:{port}/paiement/retour"


def test_payfip_an_undecided_idop_records_nothing_and_an_unknown_one_is_refused(db, parent, unpaid, payfip, port):
    started = start(db, parent, unpaid, port)
    before = money(db)
    waiting = record(db, Said(f"idop={started.transaction_ref}"), port)
    assert (waiting.state, waiting.changed) == (TxState.PENDING, False)
    with pytest.raises(payments.AnswerRejected, match="transaction inconnue") as caught:
        record(db, Said("idop=00000000000000000000000000000000"), port)
    assert caught.value.status == 404
    assert money(db) == before


def test_payfip_unknown_idops_cost_no_call_to_payfip_and_one_audit_row(db, parent, unpaid, payfip, port, monkeypatch):
    start(db, parent, unpaid, port)
    asked = []
    detail = payfip_sandbox.BANK.detail
    monkeypatch.setattr(payfip_sandbox.BANK, "detail", lambda idop: (asked.append(idop), detail(idop))[1])
    before = money(db)
    for n in range(30):
        with pytest.raises(payments.AnswerRejected, match="transaction inconnue") as caught:
            record(db, Said(f"idop={n:032x}", source="notification", address=ELSEWHERE), port)
        assert caught.value.status == 404
    assert asked == []
    assert [(count, reason) for _, count, reason in rejected(db)] == [(1, "transaction inconnue")]
    assert money(db) == before


def test_payfip_a_production_answer_for_a_test_town_is_refused(db, parent, unpaid, payfip, port):
    started = start(db, parent, unpaid, port)
    said = payfip.answer(db, started)
    payfip_sandbox.BANK.operation(started.transaction_ref).saisie = "W"
    with pytest.raises(payments.AnswerRejected, match="saisie inattendu"):
        record(db, said, port)
    assert db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [unpaid]) == 0


def test_payfip_asks_an_email_when_the_family_has_none_and_never_stores_it(town, db, parent, unpaid, payfip, port):
    db.write(
        lambda cur: [
            cur.execute("UPDATE guardians SET email = NULL WHERE family_id = ?", [town.family_a]),
            cur.execute("UPDATE families SET email = NULL WHERE id = ?", [town.family_a]),
        ]
    )
    before = money(db)
    with pytest.raises(PayerEmailNeeded, match="reçu par e-mail"):
        start(db, parent, unpaid, port)
    for bad in ("pas-une-adresse", "a@b", "x" * 75 + "@ex.fr", ""):
        with pytest.raises(InvalidInput):
            start(db, parent, unpaid, port, email=bad)
    assert money(db) == before
    started = start(db, parent, unpaid, port, email=" Payeur@Exemple.FR ")
    assert payfip_sandbox.BANK.operation(started.transaction_ref).mel == "payeur@exemple.fr"
    assert db.value("SELECT count(*) FROM guardians WHERE email = 'payeur@exemple.fr'") == 0
    assert db.value("SELECT count(*) FROM families WHERE email = 'payeur@exemple.fr'") == 0


def test_systempay_needs_no_email(town, db, parent, unpaid, port):
    BACKENDS["systempayv2"]().configure(db, port)
    db.write(
        lambda cur: [
            cur.execute("UPDATE guardians SET email = NULL WHERE family_id = ?", [town.family_a]),
            cur.execute("UPDATE families SET email = NULL WHERE id = ?", [town.family_a]),
        ]
    )
    assert start(db, parent, unpaid, port).kind == "form"


def test_an_unreachable_payfip_gives_a_french_refusal_within_the_timeout(db, parent, unpaid, monkeypatch):
    import socket
    import time

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections, never answers
    Payfip().configure(db, 0)
    options = dict(Payfip().options, service_url=f"http://127.0.0.1:{silent.getsockname()[1]}/soap")
    use_provider(db, "payfip_ws", options)
    monkeypatch.setattr(provider, "SERVICE_TIMEOUT_S", 1)
    before = money(db)
    began = time.monotonic()
    try:
        with pytest.raises(PaymentRefused, match="momentanément indisponible"):
            start(db, parent, unpaid, 8501)
    finally:
        silent.close()
    assert time.monotonic() - began < 5
    assert money(db) == before


def test_the_payfip_sandbox_answers_soap_faults_for_bad_requests():
    text, status = payfip_sandbox.answer(b"<not-soap/>", PORTAL)
    assert status == 500 and "FonctionnelleErreur" in text
    text, status = payfip_sandbox.answer(b"<<<", PORTAL)
    assert status == 500 and "XML illisible" in text


PORTAL = "http://127.0.0.1:8501"


@pytest.mark.parametrize(
    "urlnotif, urlredirect",
    [
        ("http://169.254.169.254/latest/meta-data", f"{PORTAL}/paiement/retour"),  # the server calls it
        (f"{PORTAL}/paiement/notification", "https://hameconnage.example/"),  # the browser goes there
        ("http://127.0.0.1:85010/paiement/notification", f"{PORTAL}/paiement/retour"),  # another port
        (f"{PORTAL}@ailleurs.example/x", f"{PORTAL}/paiement/retour"),  # another host, our address as a user
        (f"{PORTAL}/paiement/notification", None),
    ],
)
def test_the_payfip_sandbox_sends_nobody_outside_the_portal(urlnotif, urlredirect):
    text, status = payfip_sandbox.answer(creer(urlnotif, urlredirect or ""), PORTAL)
    assert status == 500 and "<code>R7</code>" in text and "adresses de retour invalides" in text
    text, status = payfip_sandbox.answer(creer(f"{PORTAL}/paiement/notification", f"{PORTAL}/paiement/retour"), None)
    assert status == 500 and "<code>R7</code>" in text  # no address known for the portal: nowhere
    text, status = payfip_sandbox.answer(creer(f"{PORTAL}/paiement/notification", f"{PORTAL}/paiement/retour"), PORTAL)
    assert status == 200 and "idOp" in text


def test_a_tipi_answer_is_matched_to_the_latest_attempt_of_its_reference(db, parent, unpaid, port):
    tipi = BACKENDS["tipi"]()
    tipi.configure(db, port)
    first = start(db, parent, unpaid, port)
    record(db, tipi.answer(db, first, "cancel"), port)
    second = start(db, parent, unpaid, port, key="tipi-second-key-1234567")
    assert first.payment_ref == second.payment_ref and first.transaction_ref != second.transaction_ref
    recorded = record(db, tipi.answer(db, second), port)
    assert recorded.transaction_ref == second.transaction_ref and recorded.state is TxState.PAID
    assert fields(second.url.split("?", 1)[1])["refdet"] == second.payment_ref
    assert ELSEWHERE != PROVIDER


def test_the_portal_reaches_its_own_payfip_on_its_port_not_through_the_public_address(
    db, parent, unpaid, payfip, port, monkeypatch
):
    # Behind a proxy (TLS, a public name), the server calls its own SOAP service directly; the
    # browser and PayFiP's notification still use the public address.
    monkeypatch.setenv(payments.PUBLIC_URL_ENV, "https://famille.ma-ville.invalid")
    started = start(db, parent, unpaid, port)
    assert started.url.startswith("https://famille.ma-ville.invalid/paiement/payfip?idop=")
    operation = payfip_sandbox.BANK.operation(started.transaction_ref)
    assert operation.urlnotif == "https://famille.ma-ville.invalid/paiement/notification"
    said = payfip.answer(db, started)
    assert record(db, said, port).state is TxState.PAID


def test_when_payfip_does_not_answer_the_notification_gets_a_503_to_come_again(db, parent, unpaid, payfip, port):
    import socket

    started = start(db, parent, unpaid, port)
    said = payfip.answer(db, started)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections, never answers
    options = dict(payfip.options, service_url=f"http://127.0.0.1:{silent.getsockname()[1]}/soap")
    use_provider(db, "payfip_ws", options)
    before = money(db)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(provider, "SERVICE_TIMEOUT_S", 1)
            with pytest.raises(payments.AnswerRejected, match="injoignable") as caught:
                record(db, said, port)
    finally:
        silent.close()
    assert caught.value.status == 503  # PayFiP sends its notification again later
    assert money(db) == before
    payfip.configure(db, port)
    assert record(db, said, port).state is TxState.PAID
