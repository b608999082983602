"""An invoice is never paid twice by our doing, and money the bank took is never dropped: an
attempt the bank may still complete blocks a second one; a signed "paid" after a refusal is
recorded; money received twice is kept, the invoice is « Trop-perçu » and the administrator sees
the refund to make (issue 13, items 3 and 4)."""

from datetime import timedelta

import pytest

from lib.domain.errors import NotAllowed
from lib.domain.invoicing import InvoiceStatus, PaymentRefused, TxState
from lib.payments.sandbox import BANK
from lib.services import invoicing, payments
from tests.conftest import DEMO_NOW, login
from tests.helpers import PORT, PROVIDER, app_test

MINUTE = timedelta(minutes=1)


@pytest.fixture
def unpaid(demo_db):
    return demo_db.value("SELECT id FROM invoices WHERE number = 'F-2026-000267'")


def key(n: int) -> str:
    return f"attempt-key-{n:02d}-1234567890"


def bank_page(db, started) -> str:
    """The bank's payment page for an attempt, opened (and left open) by the family."""
    return BANK.receive(payments.config(db), {f["name"]: f["value"] for f in started.fields})


def decide(db, page: str, decision: str) -> str:
    return BANK.decide(payments.config(db), page, decision)[1]


def received(db, invoice_id) -> list[int]:
    return [a for (a,) in db.rows("SELECT amount_cents FROM payments WHERE invoice_id = ? ORDER BY id", [invoice_id])]


def test_an_attempt_the_bank_may_still_complete_blocks_a_second_one(demo_db, parent, unpaid):
    """The double payment: the bank's page of a first attempt stays open past 30 minutes; a second
    attempt must not start (the bank may still complete the first); the first then pays once."""
    first = payments.start_payment(demo_db, parent, unpaid, key(1), PORT, DEMO_NOW)
    page = bank_page(demo_db, first)
    for later in (31 * MINUTE, 89 * MINUTE):
        with pytest.raises(
            PaymentRefused, match=r"déjà en cours depuis 9 h 30 .* vous pourrez payer à nouveau après 11 h 00"
        ):
            payments.start_payment(demo_db, parent, unpaid, key(2), PORT, DEMO_NOW + later)
    # The family sees the payment in progress, and until when.
    row = invoicing.invoice_detail(demo_db, parent, unpaid, DEMO_NOW + 31 * MINUTE).row
    assert row.status is InvoiceStatus.IN_PROGRESS and row.pending_until == DEMO_NOW + 90 * MINUTE
    payments.record_answer(
        demo_db, decide(demo_db, page, "pay"), "notification", DEMO_NOW + 40 * MINUTE, address=PROVIDER
    )
    assert received(demo_db, unpaid) == [8350]
    assert demo_db.value("SELECT count(*) FROM payment_transactions WHERE invoice_id = ?", [unpaid]) == 1


def test_a_new_attempt_may_start_once_the_banks_expiry_has_surely_passed(demo_db, parent, unpaid):
    first = payments.start_payment(demo_db, parent, unpaid, key(1), PORT, DEMO_NOW)
    again = payments.start_payment(demo_db, parent, unpaid, key(2), PORT, DEMO_NOW + 91 * MINUTE)
    assert again.transaction_ref != first.transaction_ref


@pytest.mark.parametrize(
    "minutes, blocked_until, free_at",
    [
        ("15", 45, 46),  # the town's contract: the bank's page lives 15 minutes; 30 minutes of margin
        ("120", 150, 151),
        ("", 90, 91),  # not set: an hour, and the margin
        ("abc", 90, 91),  # unreadable: the default, never a shorter wait
    ],
)
def test_the_provider_validity_is_a_setting_with_a_margin(demo_db, parent, unpaid, minutes, blocked_until, free_at):
    demo_db.write(lambda cur: cur.execute("INSERT INTO settings VALUES ('payment_attempt_minutes', ?)", [minutes]))
    payments.start_payment(demo_db, parent, unpaid, key(1), PORT, DEMO_NOW)
    with pytest.raises(PaymentRefused, match="déjà en cours"):
        payments.start_payment(demo_db, parent, unpaid, key(2), PORT, DEMO_NOW + (blocked_until - 1) * MINUTE)
    payments.start_payment(demo_db, parent, unpaid, key(3), PORT, DEMO_NOW + free_at * MINUTE)


@pytest.mark.parametrize("decision, state", [("refuse", TxState.REFUSED), ("cancel", TxState.CANCELLED)])
def test_a_signed_paid_after_a_refusal_is_recorded_and_audited(demo_db, parent, unpaid, decision, state):
    """The bank refused (or the family cancelled), then the same transaction is paid at the bank
    (a second try on its page): the money was taken, so it is recorded and audited."""
    started = payments.start_payment(demo_db, parent, unpaid, key(1), PORT, DEMO_NOW)
    refused_page, paid_page = bank_page(demo_db, started), bank_page(demo_db, started)
    first = payments.record_answer(
        demo_db, decide(demo_db, refused_page, decision), "retour", DEMO_NOW + MINUTE, address=PROVIDER
    )
    assert first.state is state
    late = payments.record_answer(
        demo_db, decide(demo_db, paid_page, "pay"), "notification", DEMO_NOW + 2 * MINUTE, address=PROVIDER
    )
    assert late.state is TxState.PAID and late.changed
    assert received(demo_db, unpaid) == [8350]
    assert demo_db.value("SELECT state FROM payment_transactions WHERE invoice_id = ?", [unpaid]) == "paid"
    assert demo_db.rows("SELECT action, before FROM audit_log WHERE action = 'payment.paid'") == [
        ("payment.paid", f'{{"state": "{state.value}"}}')
    ]


def pay_twice(db, parent, invoice_id):
    """A first attempt refused, a second one paid, then the bank's late "paid" for the first."""
    first = payments.start_payment(db, parent, invoice_id, key(1), PORT, DEMO_NOW)
    refused_page, paid_page = bank_page(db, first), bank_page(db, first)
    payments.record_answer(db, decide(db, refused_page, "refuse"), "retour", DEMO_NOW + MINUTE, address=PROVIDER)
    second = payments.start_payment(db, parent, invoice_id, key(2), PORT, DEMO_NOW + 2 * MINUTE)
    payments.record_answer(
        db, decide(db, bank_page(db, second), "pay"), "notification", DEMO_NOW + 3 * MINUTE, address=PROVIDER
    )
    late = payments.record_answer(
        db, decide(db, paid_page, "pay"), "notification", DEMO_NOW + 4 * MINUTE, address=PROVIDER
    )
    return first, second, late


def test_money_received_twice_is_kept_and_the_invoice_is_overpaid(demo_db, parent, unpaid):
    first, _second, late = pay_twice(demo_db, parent, unpaid)
    assert received(demo_db, unpaid) == [8350, 8350]
    assert late.overpaid_cents == 8350 and "trop-perçu de 83,50" in late.message
    # The family and the staff see « Trop-perçu ».
    for who in (parent, login(demo_db, "admin@demo.fr")):
        row = invoicing.invoice_detail(demo_db, who, unpaid, DEMO_NOW + 5 * MINUTE).row
        assert row.status is InvoiceStatus.OVERPAID and row.overpaid_cents == 8350
        assert f"{row.status.dot} {row.status.word}" == "🟣 Trop-perçu"
    assert payments.outcome_for_family(demo_db, parent, first.transaction_ref)[1].startswith(
        "Paiement enregistré : la facture F-2026-000267 était déjà réglée"
    )
    assert (
        demo_db.value(
            "SELECT json_extract(after, '$.overpaid_cents')::INTEGER FROM audit_log "
            "WHERE action = 'payment.paid' ORDER BY id DESC LIMIT 1"
        )
        == 8350
    )


def test_the_administrator_sees_the_refund_to_make(demo_db, parent, unpaid):
    admin = login(demo_db, "admin@demo.fr")
    assert payments.overpaid_invoices(demo_db, admin) == []
    first, second, _ = pay_twice(demo_db, parent, unpaid)
    [owed] = payments.overpaid_invoices(demo_db, admin)
    assert (owed.number, owed.family, owed.email, owed.refund_cents) == (
        "F-2026-000267",
        "Famille Martin",
        "parent@demo.fr",
        8350,
    )
    assert [(p["amount_cents"], p["reference"]) for p in owed.payments] == [
        (8350, second.transaction_ref),
        (8350, first.transaction_ref),
    ]
    for who in (parent, login(demo_db, "agent@demo.fr")):
        with pytest.raises(NotAllowed):
            payments.overpaid_invoices(demo_db, who)


def test_the_billing_page_lists_the_refund(demo_db, parent, unpaid):
    first, second, _ = pay_twice(demo_db, parent, unpaid)
    at = app_test("pages/admin_facturation.py", demo_db, "admin@demo.fr").run()
    assert not at.exception, at.exception
    assert any("ont reçu plus que leur montant" in w.value for w in at.warning)
    [table] = [d.value for d in at.dataframe if "À rembourser" in d.value.columns]
    [row] = table.to_dict("records")
    assert row["Facture"] == "F-2026-000267" and row["Famille"] == "Famille Martin (parent@demo.fr)"
    assert row["À rembourser"] == "83,50\u00a0€"
    assert first.transaction_ref in row["Paiements reçus"] and second.transaction_ref in row["Paiements reçus"]


def family_page(db):
    at = app_test("pages/mes_factures.py", db, "parent@demo.fr").run()
    assert not at.exception, at.exception
    return at


def test_the_family_sees_until_when_a_payment_is_in_progress_then_the_overpayment(demo_db, parent, unpaid):
    payments.start_payment(demo_db, parent, unpaid, key(1), PORT, DEMO_NOW)
    [info] = [i.value for i in family_page(demo_db).info if "Un paiement est en cours" in i.value]
    assert "un second paiement n'est pas possible" in info and "vous pourrez payer à nouveau après 11 h 00." in info
    demo_db.write(lambda cur: cur.execute("DELETE FROM payment_transactions"))
    pay_twice(demo_db, parent, unpaid)
    at = family_page(demo_db)
    assert any("🟣 Trop-perçu" in m.value for m in at.markdown)
    assert any("83,50\u00a0€ de plus que son montant" in i.value for i in at.info)
