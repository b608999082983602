import json
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode

import pytest

from lib.domain.errors import InvalidInput, NotAllowed
from lib.domain.invoicing import PaymentRefused, TxState, payment_reference
from lib.payments.sandbox import BANK
from lib.services import payments
from tests.conftest import DEMO_NOW
from tests.helpers import PORT, PROVIDER, town_invoice

BASE = "http://127.0.0.1:8501"
KEY = "k" * 24


@pytest.fixture
def parent(town):
    """Family A's parent (the small town's, not the demo's)."""
    return town.login(town.parent_a)


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


def test_pay_round_trip_records_once_and_the_invoice_turns_green(db, parent, unpaid, october):
    started = payments.start_payment(db, parent, unpaid, KEY, PORT, DEMO_NOW)
    fields = {f["name"]: f["value"] for f in started.fields}
    assert started.url == BASE + "/paiement/sandbox"
    assert fields["vads_amount"] == str(october.total_cents) and fields["vads_order_id"] == payment_reference(
        october.number
    )
    assert fields["vads_url_return"] == BASE + "/paiement/retour"
    answer = bank_answer(db, started)
    first = payments.record_answer(db, answer, "notification", DEMO_NOW, address=PROVIDER)
    assert first.state is TxState.PAID and first.changed
    before = money(db)
    again = payments.record_answer(
        db, answer, "retour", DEMO_NOW, address=PROVIDER
    )  # the browser's return, same answer
    assert again.state is TxState.PAID and not again.changed
    assert money(db) == before
    assert db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [unpaid]) == 1
    assert db.value("SELECT sum(amount_cents) FROM payments WHERE invoice_id = ?", [unpaid]) == october.total_cents
    with pytest.raises(PaymentRefused, match="déjà soldée"):
        payments.start_payment(db, parent, unpaid, "another-key-1234567890", PORT, DEMO_NOW)
    assert payments.outcome_for_family(db, parent, started.transaction_ref)[0] is TxState.PAID


def test_the_town_address_wins_over_the_address_a_request_came_to(db, parent, unpaid, october):
    """With `public_url` set, the provider's form, return and notification use the town's address
    (the route passes only the port it serves on: no request header reaches them)."""
    db.write(lambda cur: cur.execute("INSERT INTO settings VALUES ('public_url', 'https://famille.ma-ville.fr/')"))
    started = payments.start_payment(db, parent, unpaid, KEY, PORT, DEMO_NOW)
    fields = {f["name"]: f["value"] for f in started.fields}
    assert started.url == "https://famille.ma-ville.fr/paiement/sandbox"
    assert fields["vads_url_return"] == "https://famille.ma-ville.fr/paiement/retour"
    assert fields["vads_url_check"] == "https://famille.ma-ville.fr/paiement/notification"
    recorded = payments.record_answer(db, bank_answer(db, started), "notification", DEMO_NOW, address=PROVIDER)
    assert recorded.state is TxState.PAID and recorded.invoice_number == october.number


@pytest.mark.parametrize("decision, state", [("refuse", TxState.REFUSED), ("cancel", TxState.CANCELLED)])
def test_refused_or_cancelled_payments_leave_the_invoice_unpaid(db, parent, unpaid, decision, state):
    started = payments.start_payment(db, parent, unpaid, KEY, PORT, DEMO_NOW)
    recorded = payments.record_answer(db, bank_answer(db, started, decision), "retour", DEMO_NOW, address=PROVIDER)
    assert recorded.state is state and "reste à payer" in recorded.message
    assert db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [unpaid]) == 0
    # The family may try again (a new attempt).
    payments.start_payment(db, parent, unpaid, "second-try-key-123456", PORT, DEMO_NOW)


def test_a_double_click_reuses_the_attempt_and_a_second_payment_is_refused(db, parent, unpaid):
    first = payments.start_payment(db, parent, unpaid, KEY, PORT, DEMO_NOW)
    same = payments.start_payment(db, parent, unpaid, KEY, PORT, DEMO_NOW + timedelta(seconds=1))
    assert same == first
    assert db.value("SELECT count(*) FROM payment_transactions WHERE invoice_id = ?", [unpaid]) == 1
    with pytest.raises(PaymentRefused, match="déjà en cours depuis 9 h 30"):
        payments.start_payment(db, parent, unpaid, "other-tab-key-1234567", PORT, DEMO_NOW + timedelta(minutes=2))


@pytest.mark.parametrize(
    "who, invoice, key, error, words",
    [
        ("parent_a", "family B's", KEY, NotAllowed, "Facture introuvable"),
        ("parent_a", "absent", KEY, NotAllowed, "Facture introuvable"),
        ("parent_a", "unpaid, as text", KEY, NotAllowed, "Facture introuvable"),
        ("parent_a", "paid", KEY, PaymentRefused, "déjà soldée"),
        ("parent_a", "unpaid", "short", InvalidInput, "Lien de paiement invalide"),
        ("parent_a", "unpaid", "bad key with spaces!!", InvalidInput, "Lien de paiement invalide"),
        ("parent_b", "family B's", KEY, PaymentRefused, "pas encore le droit"),  # B asked, not granted yet
        ("parent_b, right refused", "family B's", KEY, PaymentRefused, "pas encore le droit"),
        ("agent", "unpaid", KEY, NotAllowed, "Seule la famille"),
    ],
)
def test_payments_that_must_not_start_write_nothing(town, db, who, invoice, key, error, words):
    if who.endswith("right refused"):
        payments.decide_payment_right(db, town.login(town.admin), town.family_b, False, DEMO_NOW)
    actor = town.login(getattr(town, who.split(",")[0]))
    unpaid = town_invoice(town, town.family_a, 10).id
    ids = {
        "family B's": town_invoice(town, town.family_b, 10).id,
        "absent": db.value("SELECT max(id) + 1000 FROM invoices"),
        "unpaid, as text": str(unpaid),
        "paid": town_invoice(town, town.family_a, 9).id,
        "unpaid": unpaid,
    }
    before = money(db)
    with pytest.raises(error, match=words):
        payments.start_payment(db, actor, ids[invoice], key, PORT, DEMO_NOW)
    assert money(db) == before


def test_another_familys_attempt_key_cannot_be_reused(town, db, parent, unpaid):
    payments.start_payment(db, parent, unpaid, KEY, PORT, DEMO_NOW)
    other = db.value("SELECT min(id) FROM invoices WHERE family_id = ? AND id <> ?", [town.family_a, unpaid])
    with pytest.raises(NotAllowed, match="Facture introuvable"):
        payments.start_payment(db, parent, other, KEY, PORT, DEMO_NOW)


def forged_answers(db, started, answer, another_number):
    fields = dict(parse_qsl(answer, keep_blank_values=True))
    tampered = dict(fields, vads_amount="1")
    return {
        "bad signature": urlencode(dict(fields, signature="AAAA")),
        "tampered amount, old signature": urlencode(tampered),
        "signed, wrong amount": resign(db, answer, vads_amount="100"),
        "signed, unknown transaction": resign(db, answer, vads_trans_id="ZZZZZZ"),
        "signed, another invoice": resign(db, answer, vads_order_id=another_number),
        "missing fields": "vads_result=00",
        "empty": "",
        "garbage": "%%%&&&===",
    }


SIGNED = ("signed, wrong amount", "signed, unknown transaction", "signed, another invoice")


def rejections(db):
    rows = db.rows(
        "SELECT entity, entity_id, after, reason FROM audit_log WHERE action = 'payment.rejected' ORDER BY id"
    )
    return [(entity, entity_id, json.loads(after).get("count"), reason) for entity, entity_id, after, reason in rows]


def test_forged_and_replayed_answers_change_nothing_and_are_logged(town, db, parent, unpaid, october):
    """A signed answer that does not fit its attempt is logged on its own; anonymous ones (anyone
    can send them) are counted on one row for their address."""
    started = payments.start_payment(db, parent, unpaid, KEY, PORT, DEMO_NOW)
    answer = bank_answer(db, started)
    for minute, (name, forged) in enumerate(
        forged_answers(db, started, answer, town_invoice(town, town.family_b, 10).number).items()
    ):
        before = money(db)
        with pytest.raises(payments.AnswerRejected) as err:
            payments.record_answer(db, forged, "notification", DEMO_NOW + timedelta(minutes=minute), address=PROVIDER)
        assert err.value.status in (400, 404), name
        assert money(db) == before, name
    assert rejections(db) == [
        ("address", PROVIDER, 5, "réponse illisible (ResponseError)"),  # the 5 unsigned ones, the last reason
        ("transaction", started.transaction_ref, None, f"montant 100 ≠ {october.total_cents} attendus"),
        ("transaction", started.transaction_ref.split("_")[0] + "_ZZZZZZ", None, "transaction inconnue"),
        ("transaction", started.transaction_ref, None, "la réponse ne concerne pas cette facture"),
    ]
    # The genuine answer still works afterwards, once.
    assert payments.record_answer(db, answer, "notification", DEMO_NOW, address=PROVIDER).changed
    assert not payments.record_answer(db, answer, "notification", DEMO_NOW, address=PROVIDER).changed


def test_a_paid_attempt_is_never_undone_by_a_later_answer(db, parent, unpaid):
    started = payments.start_payment(db, parent, unpaid, KEY, PORT, DEMO_NOW)
    paid = bank_answer(db, started, "pay")
    payments.record_answer(db, paid, "notification", DEMO_NOW, address=PROVIDER)
    refused = resign(db, paid, vads_result="05", vads_auth_result="05", vads_trans_status="REFUSED")
    assert payments.record_answer(db, refused, "notification", DEMO_NOW, address=PROVIDER).state is TxState.PAID
    assert db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [unpaid]) == 1


def test_a_lost_return_is_reconciled_and_a_forgotten_attempt_expires(town, db, parent, unpaid):
    started = payments.start_payment(db, parent, unpaid, KEY, PORT, DEMO_NOW)
    bank_answer(db, started)  # paid at the bank; neither the notification nor the return arrived
    assert (
        db.value("SELECT state FROM payment_transactions WHERE transaction_ref = ?", [started.transaction_ref])
        == "pending"
    )
    assert payments.reconcile(db, DEMO_NOW + timedelta(minutes=1), family_id=town.family_a) == 1
    assert db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [unpaid]) == 1
    # Another forgotten attempt (no answer at the bank) expires only once the bank's own expiry has
    # surely passed: its validity (an hour by default) and a margin of 30 minutes.
    other = db.value("SELECT max(id) FROM invoices WHERE family_id = ? AND id <> ?", [town.family_a, unpaid])
    db.write(lambda cur: cur.execute("DELETE FROM payments WHERE invoice_id = ?", [other]))
    forgotten = payments.start_payment(db, parent, other, "forgotten-key-1234567", PORT, DEMO_NOW)
    assert payments.reconcile(db, DEMO_NOW + timedelta(minutes=31)) == 0
    assert payments.reconcile(db, DEMO_NOW + timedelta(minutes=89)) == 0
    assert payments.reconcile(db, DEMO_NOW + timedelta(minutes=91)) == 1
    assert (
        db.value("SELECT state FROM payment_transactions WHERE transaction_ref = ?", [forgotten.transaction_ref])
        == "expired"
    )


def test_payment_right_request_and_decision(town, db):
    family, admin = town.login(town.strangers[0]), town.login(town.admin)  # a family that never asked
    assert payments.payment_right(db, family).right == "none"
    assert "Demande envoyée" in payments.request_payment_right(db, family, DEMO_NOW)
    assert "déjà enregistrée" in payments.request_payment_right(db, family, DEMO_NOW)
    assert any(
        r.family_id == family.family_id and r.right == "requested" for r in payments.payment_right_requests(db, admin)
    )
    with pytest.raises(NotAllowed):
        payments.decide_payment_right(db, family, family.family_id, True, DEMO_NOW)
    with pytest.raises(InvalidInput):
        payments.decide_payment_right(db, admin, db.value("SELECT max(id) + 1000 FROM families"), True, DEMO_NOW)
    payments.decide_payment_right(db, admin, family.family_id, False, DEMO_NOW)
    assert payments.payment_right(db, family).right == "refused"
    assert "refusée" in payments.describe_right(payments.payment_right(db, family))
    payments.decide_payment_right(db, admin, family.family_id, True, DEMO_NOW)
    assert payments.payment_right(db, family).right == "granted"
    actions = [a for (a,) in db.rows("SELECT action FROM audit_log WHERE entity = 'family' ORDER BY id")]
    assert actions == ["payment_right.request", "payment_right.refused", "payment_right.granted"]


def test_a_family_cannot_read_another_familys_payment_outcome(town, db, parent, unpaid):
    started = payments.start_payment(db, parent, unpaid, KEY, PORT, DEMO_NOW)
    other = town.login(town.parent_b)
    assert payments.outcome_for_family(db, other, started.transaction_ref) is None
    assert payments.outcome_for_family(db, parent, started.transaction_ref)[0] is TxState.PENDING


def test_refused_payments_and_forged_invoice_ids_leave_an_audit_entry(town, db, parent):
    from lib.services import invoicing

    other = town_invoice(town, town.family_b, 9).id
    with pytest.raises(NotAllowed):
        payments.start_payment(db, parent, other, KEY, PORT, DEMO_NOW)
    with pytest.raises(NotAllowed):
        invoicing.invoice_detail(db, parent, other, DEMO_NOW)
    entries = db.rows(
        "SELECT action, user_id, entity_id, reason FROM audit_log WHERE action LIKE '%refused' ORDER BY id"
    )
    assert entries == [
        ("payment.start_refused", parent.user_id, str(other), "Facture introuvable ou non rattachée à votre compte."),
        ("invoice.access_refused", parent.user_id, str(other), "Facture introuvable ou non rattachée à votre compte."),
    ]


def test_a_late_paid_answer_after_expiry_is_still_recorded(db, parent, unpaid):
    started = payments.start_payment(db, parent, unpaid, KEY, PORT, DEMO_NOW)
    answer = bank_answer(db, started)
    # Pretend the sandbox had lost its answer: the attempt expires after its lifetime…
    BANK._answers.pop(started.transaction_ref)
    assert payments.reconcile(db, DEMO_NOW + timedelta(minutes=91)) == 1
    # …then the bank's notification arrives: the money was taken, so it is recorded, once.
    late = DEMO_NOW + timedelta(minutes=92)
    recorded = payments.record_answer(db, answer, "notification", late, address=PROVIDER)
    assert recorded.state is TxState.PAID and recorded.changed
    assert db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [unpaid]) == 1
    assert not payments.record_answer(db, answer, "retour", late, address=PROVIDER).changed


def test_an_answer_signed_for_another_mode_or_site_is_rejected(db, parent, unpaid):
    started = payments.start_payment(db, parent, unpaid, KEY, PORT, DEMO_NOW)
    answer = bank_answer(db, started)
    for forged in (resign(db, answer, vads_site_id="99999999"),):
        with pytest.raises(payments.AnswerRejected):
            payments.record_answer(db, forged, "notification", DEMO_NOW, address=PROVIDER)
    assert db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [unpaid]) == 0


def test_two_payments_started_at_the_same_moment_give_one_attempt(db, parent, unpaid):
    import threading

    barrier, outcomes = threading.Barrier(2), []

    def start(key):
        barrier.wait()
        try:
            outcomes.append(payments.start_payment(db, parent, unpaid, key, PORT, DEMO_NOW))
        except PaymentRefused as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=start, args=(f"concurrent-key-{n}-123456",)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(type(o).__name__ for o in outcomes) == ["Departure", "PaymentRefused"]
    assert db.value("SELECT count(*) FROM payment_transactions WHERE invoice_id = ?", [unpaid]) == 1


def test_without_any_known_address_a_payment_does_not_start(db, parent, unpaid, monkeypatch):
    """Served on a Unix socket (no port) with neither public_url nor PORTAIL_PUBLIC_URL: refused in
    French, nothing written, rather than an address guessed from the request."""
    monkeypatch.delenv(payments.PUBLIC_URL_ENV, raising=False)
    before = money(db)
    with pytest.raises(PaymentRefused, match="pas configuré"):
        payments.start_payment(db, parent, unpaid, KEY, None, DEMO_NOW)
    assert money(db) == before
