from datetime import timedelta
from urllib.parse import parse_qsl, urlencode

import pytest

from lib.domain.errors import InvalidInput, NotAllowed
from lib.domain.invoicing import PaymentRefused, TxState
from lib.payments.sandbox import BANK
from lib.services import payments
from tests.conftest import DEMO_NOW, login
from tests.helpers import PORT, PROVIDER

BASE = "http://127.0.0.1:8501"
KEY = "k" * 24


@pytest.fixture
def unpaid(demo_db):
    return demo_db.value("SELECT id FROM invoices WHERE number = 'F-2026-000267'")


def money(db):
    return (
        db.rows("SELECT * FROM payments ORDER BY id"),
        db.rows("SELECT id, state FROM payment_transactions ORDER BY id"),
    )


def bank_answer(db, started, decision="pay"):
    """What the sandbox bank answers for a started payment (its page, then the person's choice)."""
    cfg = payments.config(db)
    request_id = BANK.receive(cfg, {f["name"]: f["value"] for f in started.fields})
    return BANK.decide(cfg, request_id, decision)[1]


def resign(db, query, **changes):
    fields = dict(parse_qsl(query, keep_blank_values=True))
    fields.update(changes)
    fields["signature"] = BANK._signer(payments.config(db)).signature(fields)
    return urlencode(fields)


def test_pay_round_trip_records_once_and_the_invoice_turns_green(demo_db, parent, unpaid):
    started = payments.start_payment(demo_db, parent, unpaid, KEY, PORT, DEMO_NOW)
    fields = {f["name"]: f["value"] for f in started.fields}
    assert started.url == BASE + "/paiement/sandbox"
    assert fields["vads_amount"] == "8350" and fields["vads_order_id"] == "F-2026-000267"
    assert fields["vads_url_return"] == BASE + "/paiement/retour"
    answer = bank_answer(demo_db, started)
    first = payments.record_answer(demo_db, answer, "notification", DEMO_NOW, address=PROVIDER)
    assert first.state is TxState.PAID and first.changed
    before = money(demo_db)
    again = payments.record_answer(
        demo_db, answer, "retour", DEMO_NOW, address=PROVIDER
    )  # the browser's return, same answer
    assert again.state is TxState.PAID and not again.changed
    assert money(demo_db) == before
    assert demo_db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [unpaid]) == 1
    assert demo_db.value("SELECT sum(amount_cents) FROM payments WHERE invoice_id = ?", [unpaid]) == 8350
    with pytest.raises(PaymentRefused, match="déjà soldée"):
        payments.start_payment(demo_db, parent, unpaid, "another-key-1234567890", PORT, DEMO_NOW)
    assert payments.outcome_for_family(demo_db, parent, started.transaction_ref)[0] is TxState.PAID


def test_the_town_address_wins_over_the_address_a_request_came_to(demo_db, parent, unpaid):
    """With `public_url` set, the provider's form, return and notification use the town's address
    (the route passes only the port it serves on: no request header reaches them)."""
    demo_db.write(lambda cur: cur.execute("INSERT INTO settings VALUES ('public_url', 'https://famille.ma-ville.fr/')"))
    started = payments.start_payment(demo_db, parent, unpaid, KEY, PORT, DEMO_NOW)
    fields = {f["name"]: f["value"] for f in started.fields}
    assert started.url == "https://famille.ma-ville.fr/paiement/sandbox"
    assert fields["vads_url_return"] == "https://famille.ma-ville.fr/paiement/retour"
    assert fields["vads_url_check"] == "https://famille.ma-ville.fr/paiement/notification"
    recorded = payments.record_answer(
        demo_db, bank_answer(demo_db, started), "notification", DEMO_NOW, address=PROVIDER
    )
    assert recorded.state is TxState.PAID and recorded.invoice_number == "F-2026-000267"


@pytest.mark.parametrize("decision, state", [("refuse", TxState.REFUSED), ("cancel", TxState.CANCELLED)])
def test_refused_or_cancelled_payments_leave_the_invoice_unpaid(demo_db, parent, unpaid, decision, state):
    started = payments.start_payment(demo_db, parent, unpaid, KEY, PORT, DEMO_NOW)
    recorded = payments.record_answer(
        demo_db, bank_answer(demo_db, started, decision), "retour", DEMO_NOW, address=PROVIDER
    )
    assert recorded.state is state and "reste à payer" in recorded.message
    assert demo_db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [unpaid]) == 0
    # The family may try again (a new attempt).
    payments.start_payment(demo_db, parent, unpaid, "second-try-key-123456", PORT, DEMO_NOW)


def test_a_double_click_reuses_the_attempt_and_a_second_payment_is_refused(demo_db, parent, unpaid):
    first = payments.start_payment(demo_db, parent, unpaid, KEY, PORT, DEMO_NOW)
    same = payments.start_payment(demo_db, parent, unpaid, KEY, PORT, DEMO_NOW + timedelta(seconds=1))
    assert same == first
    assert demo_db.value("SELECT count(*) FROM payment_transactions WHERE invoice_id = ?", [unpaid]) == 1
    with pytest.raises(PaymentRefused, match="déjà en cours depuis 9 h 30"):
        payments.start_payment(demo_db, parent, unpaid, "other-tab-key-1234567", PORT, DEMO_NOW + timedelta(minutes=2))


@pytest.mark.parametrize(
    "email, invoice, key, error, words",
    [
        ("parent@demo.fr", "other", KEY, NotAllowed, "Facture introuvable"),
        ("parent@demo.fr", 999_999, KEY, NotAllowed, "Facture introuvable"),
        ("parent@demo.fr", "1", KEY, NotAllowed, "Facture introuvable"),
        ("parent@demo.fr", "paid", KEY, PaymentRefused, "déjà soldée"),
        ("parent@demo.fr", "unpaid", "short", InvalidInput, "Lien de paiement invalide"),
        ("parent@demo.fr", "unpaid", "bad key with spaces!!", InvalidInput, "Lien de paiement invalide"),
        ("famille002@demo.fr", "own", KEY, PaymentRefused, "pas encore le droit"),
        ("agent@demo.fr", "unpaid", KEY, NotAllowed, "Seule la famille"),
    ],
)
def test_payments_that_must_not_start_write_nothing(demo_db, email, invoice, key, error, words):
    who = login(demo_db, email)
    ids = {
        "other": demo_db.value("SELECT min(id) FROM invoices WHERE family_id = 2"),
        "paid": demo_db.value("SELECT id FROM invoices WHERE number = 'F-2026-000001'"),
        "unpaid": demo_db.value("SELECT id FROM invoices WHERE number = 'F-2026-000267'"),
        "own": demo_db.value("SELECT max(id) FROM invoices WHERE family_id = 2"),
    }
    before = money(demo_db)
    with pytest.raises(error, match=words):
        payments.start_payment(demo_db, who, ids.get(invoice, invoice), key, PORT, DEMO_NOW)
    assert money(demo_db) == before


def test_another_familys_attempt_key_cannot_be_reused(demo_db, parent, unpaid):
    payments.start_payment(demo_db, parent, unpaid, KEY, PORT, DEMO_NOW)
    other = demo_db.value("SELECT min(id) FROM invoices WHERE family_id = 1 AND id <> ?", [unpaid])
    with pytest.raises(NotAllowed):
        payments.start_payment(demo_db, parent, other, KEY, PORT, DEMO_NOW)


def forged_answers(db, started, answer):
    fields = dict(parse_qsl(answer, keep_blank_values=True))
    tampered = dict(fields, vads_amount="1")
    return {
        "bad signature": urlencode(dict(fields, signature="AAAA")),
        "tampered amount, old signature": urlencode(tampered),
        "signed, wrong amount": resign(db, answer, vads_amount="100"),
        "signed, unknown transaction": resign(db, answer, vads_trans_id="ZZZZZZ"),
        "signed, another invoice": resign(db, answer, vads_order_id="F-2026-000002"),
        "missing fields": "vads_result=00",
        "empty": "",
        "garbage": "%%%&&&===",
    }


SIGNED = ("signed, wrong amount", "signed, unknown transaction", "signed, another invoice")


def rejections(db):
    return db.rows(
        "SELECT entity, entity_id, json_extract(after, '$.count')::INTEGER, reason FROM audit_log "
        "WHERE action = 'payment.rejected' ORDER BY id"
    )


def test_forged_and_replayed_answers_change_nothing_and_are_logged(demo_db, parent, unpaid):
    """A signed answer that does not fit its attempt is logged on its own; anonymous ones (anyone
    can send them) are counted on one row for their address."""
    started = payments.start_payment(demo_db, parent, unpaid, KEY, PORT, DEMO_NOW)
    answer = bank_answer(demo_db, started)
    for minute, (name, forged) in enumerate(forged_answers(demo_db, started, answer).items()):
        before = money(demo_db)
        with pytest.raises(payments.AnswerRejected) as err:
            payments.record_answer(
                demo_db, forged, "notification", DEMO_NOW + timedelta(minutes=minute), address=PROVIDER
            )
        assert err.value.status in (400, 404), name
        assert money(demo_db) == before, name
    assert rejections(demo_db) == [
        ("address", PROVIDER, 5, "réponse illisible (ResponseError)"),  # the 5 unsigned ones, the last reason
        ("transaction", started.transaction_ref, None, "montant 100 ≠ 8350 attendus"),
        ("transaction", started.transaction_ref.split("_")[0] + "_ZZZZZZ", None, "transaction inconnue"),
        ("transaction", started.transaction_ref, None, "la réponse ne concerne pas cette facture"),
    ]
    # The genuine answer still works afterwards, once.
    assert payments.record_answer(demo_db, answer, "notification", DEMO_NOW, address=PROVIDER).changed
    assert not payments.record_answer(demo_db, answer, "notification", DEMO_NOW, address=PROVIDER).changed


def test_a_paid_attempt_is_never_undone_by_a_later_answer(demo_db, parent, unpaid):
    started = payments.start_payment(demo_db, parent, unpaid, KEY, PORT, DEMO_NOW)
    paid = bank_answer(demo_db, started, "pay")
    payments.record_answer(demo_db, paid, "notification", DEMO_NOW, address=PROVIDER)
    refused = resign(demo_db, paid, vads_result="05", vads_auth_result="05", vads_trans_status="REFUSED")
    assert payments.record_answer(demo_db, refused, "notification", DEMO_NOW, address=PROVIDER).state is TxState.PAID
    assert demo_db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [unpaid]) == 1


def test_a_lost_return_is_reconciled_and_a_forgotten_attempt_expires(demo_db, parent, unpaid):
    started = payments.start_payment(demo_db, parent, unpaid, KEY, PORT, DEMO_NOW)
    bank_answer(demo_db, started)  # paid at the bank; neither the notification nor the return arrived
    assert (
        demo_db.value("SELECT state FROM payment_transactions WHERE transaction_ref = ?", [started.transaction_ref])
        == "pending"
    )
    assert payments.reconcile(demo_db, DEMO_NOW + timedelta(minutes=1), family_id=1) == 1
    assert demo_db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [unpaid]) == 1
    # Another forgotten attempt (no answer at the bank) expires only once the bank's own expiry has
    # surely passed: its validity (an hour by default) and a margin of 30 minutes.
    other = demo_db.value("SELECT max(id) FROM invoices WHERE family_id = 1 AND id <> ?", [unpaid])
    demo_db.write(lambda cur: cur.execute("DELETE FROM payments WHERE invoice_id = ?", [other]))
    forgotten = payments.start_payment(demo_db, parent, other, "forgotten-key-1234567", PORT, DEMO_NOW)
    assert payments.reconcile(demo_db, DEMO_NOW + timedelta(minutes=31)) == 0
    assert payments.reconcile(demo_db, DEMO_NOW + timedelta(minutes=89)) == 0
    assert payments.reconcile(demo_db, DEMO_NOW + timedelta(minutes=91)) == 1
    assert (
        demo_db.value("SELECT state FROM payment_transactions WHERE transaction_ref = ?", [forgotten.transaction_ref])
        == "expired"
    )


def test_payment_right_request_and_decision(demo_db):
    family, admin = login(demo_db, "famille002@demo.fr"), login(demo_db, "admin@demo.fr")
    assert payments.payment_right(demo_db, family).right == "none"
    assert "Demande envoyée" in payments.request_payment_right(demo_db, family, DEMO_NOW)
    assert "déjà enregistrée" in payments.request_payment_right(demo_db, family, DEMO_NOW)
    assert any(r.family_id == 2 and r.right == "requested" for r in payments.payment_right_requests(demo_db, admin))
    with pytest.raises(NotAllowed):
        payments.decide_payment_right(demo_db, family, 2, True, DEMO_NOW)
    with pytest.raises(InvalidInput):
        payments.decide_payment_right(demo_db, admin, 999_999, True, DEMO_NOW)
    payments.decide_payment_right(demo_db, admin, 2, False, DEMO_NOW)
    assert payments.payment_right(demo_db, family).right == "refused"
    assert "refusée" in payments.describe_right(payments.payment_right(demo_db, family))
    payments.decide_payment_right(demo_db, admin, 2, True, DEMO_NOW)
    assert payments.payment_right(demo_db, family).right == "granted"
    actions = [a for (a,) in demo_db.rows("SELECT action FROM audit_log WHERE entity = 'family' ORDER BY id")]
    assert actions == ["payment_right.request", "payment_right.refused", "payment_right.granted"]


def test_a_family_cannot_read_another_familys_payment_outcome(demo_db, parent, unpaid):
    started = payments.start_payment(demo_db, parent, unpaid, KEY, PORT, DEMO_NOW)
    other = login(demo_db, "famille002@demo.fr")
    assert payments.outcome_for_family(demo_db, other, started.transaction_ref) is None
    assert payments.outcome_for_family(demo_db, parent, started.transaction_ref)[0] is TxState.PENDING


def test_refused_payments_and_forged_invoice_ids_leave_an_audit_entry(demo_db, parent):
    from lib.services import invoicing

    other = demo_db.value("SELECT min(id) FROM invoices WHERE family_id = 2")
    with pytest.raises(NotAllowed):
        payments.start_payment(demo_db, parent, other, KEY, PORT, DEMO_NOW)
    with pytest.raises(NotAllowed):
        invoicing.invoice_detail(demo_db, parent, other, DEMO_NOW)
    entries = demo_db.rows(
        "SELECT action, user_id, entity_id, reason FROM audit_log WHERE action LIKE '%refused' ORDER BY id"
    )
    assert entries == [
        ("payment.start_refused", parent.user_id, str(other), "Facture introuvable ou non rattachée à votre compte."),
        ("invoice.access_refused", parent.user_id, str(other), "Facture introuvable ou non rattachée à votre compte."),
    ]


def test_a_late_paid_answer_after_expiry_is_still_recorded(demo_db, parent, unpaid):
    started = payments.start_payment(demo_db, parent, unpaid, KEY, PORT, DEMO_NOW)
    answer = bank_answer(demo_db, started)
    # Pretend the sandbox had lost its answer: the attempt expires after its lifetime…
    BANK._answers.pop(started.transaction_ref)
    assert payments.reconcile(demo_db, DEMO_NOW + timedelta(minutes=91)) == 1
    # …then the bank's notification arrives: the money was taken, so it is recorded, once.
    late = DEMO_NOW + timedelta(minutes=92)
    recorded = payments.record_answer(demo_db, answer, "notification", late, address=PROVIDER)
    assert recorded.state is TxState.PAID and recorded.changed
    assert demo_db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [unpaid]) == 1
    assert not payments.record_answer(demo_db, answer, "retour", late, address=PROVIDER).changed


def test_an_answer_signed_for_another_mode_or_site_is_rejected(demo_db, parent, unpaid):
    started = payments.start_payment(demo_db, parent, unpaid, KEY, PORT, DEMO_NOW)
    answer = bank_answer(demo_db, started)
    for forged in (resign(demo_db, answer, vads_site_id="99999999"),):
        with pytest.raises(payments.AnswerRejected):
            payments.record_answer(demo_db, forged, "notification", DEMO_NOW, address=PROVIDER)
    assert demo_db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [unpaid]) == 0


def test_two_payments_started_at_the_same_moment_give_one_attempt(demo_db, parent, unpaid):
    import threading

    barrier, outcomes = threading.Barrier(2), []

    def start(key):
        barrier.wait()
        try:
            outcomes.append(payments.start_payment(demo_db, parent, unpaid, key, PORT, DEMO_NOW))
        except PaymentRefused as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=start, args=(f"concurrent-key-{n}-123456",)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(type(o).__name__ for o in outcomes) == ["PaymentRefused", "Started"]
    assert demo_db.value("SELECT count(*) FROM payment_transactions WHERE invoice_id = ?", [unpaid]) == 1


def test_without_any_known_address_a_payment_does_not_start(demo_db, parent, unpaid, monkeypatch):
    """Served on a Unix socket (no port) with neither public_url nor PORTAIL_PUBLIC_URL: refused in
    French, nothing written, rather than an address guessed from the request."""
    monkeypatch.delenv(payments.PUBLIC_URL_ENV, raising=False)
    before = money(demo_db)
    with pytest.raises(PaymentRefused, match="pas configuré"):
        payments.start_payment(demo_db, parent, unpaid, KEY, None, DEMO_NOW)
    assert money(demo_db) == before
