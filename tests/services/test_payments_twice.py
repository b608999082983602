"""An invoice is never paid twice by our doing, and money the bank took is never dropped: an
attempt the bank may still complete blocks a second one; a signed "paid" after a refusal is
recorded; money received twice is kept, the invoice is « Trop-perçu » and the administrator sees
the refund to make (issue 13, items 3 and 4)."""

import json
from datetime import timedelta

import pytest

from lib.domain.errors import NotAllowed
from lib.domain.invoicing import InvoiceStatus, PaymentRefused, TxState
from lib.payments.sandbox import BANK
from lib.services import invoicing, payments
from lib.services.demo_marks import SANDBOXES
from tests.conftest import DEMO_NOW
from tests.helpers import PORT, PROVIDER, app_test, unpaid_id
from tests.payment_providers import use_provider

MINUTE = timedelta(minutes=1)


@pytest.fixture
def parent_a(town):
    return town.login(town.parent_a)


def comma(cents: int) -> str:
    """An amount as the French pages write it, without the currency: 8350 → "83,50"."""
    return f"{cents // 100},{cents % 100:02d}"


def key(n: int) -> str:
    return f"attempt-key-{n:02d}-1234567890"


def bank_page(db, started) -> str:
    """The bank's payment page for an attempt, opened (and left open) by the family."""
    return BANK.receive(payments.config(db), {f["name"]: f["value"] for f in started.fields})


def decide(db, page: str, decision: str) -> str:
    return BANK.decide(payments.config(db), page, decision)[1]


def received(db, invoice_id) -> list[int]:
    return [a for (a,) in db.rows("SELECT amount_cents FROM payments WHERE invoice_id = ? ORDER BY id", [invoice_id])]


def test_an_attempt_the_bank_may_still_complete_blocks_a_second_one(db, parent_a, unpaid, october):
    """The double payment: the bank's page of a first attempt stays open past 30 minutes; a second
    attempt must not start (the bank may still complete the first); the first then pays once."""
    first = payments.start_payment(db, parent_a, unpaid, key(1), PORT, DEMO_NOW)
    page = bank_page(db, first)
    for later in (31 * MINUTE, 89 * MINUTE):
        with pytest.raises(
            PaymentRefused, match=r"déjà en cours depuis 9 h 30 .* vous pourrez payer à nouveau après 11 h 00"
        ):
            payments.start_payment(db, parent_a, unpaid, key(2), PORT, DEMO_NOW + later)
    # The family sees the payment in progress, and until when.
    row = invoicing.invoice_detail(db, parent_a, unpaid, DEMO_NOW + 31 * MINUTE).row
    assert row.status is InvoiceStatus.IN_PROGRESS and row.pending_until == DEMO_NOW + 90 * MINUTE
    payments.record_answer(db, decide(db, page, "pay"), "notification", DEMO_NOW + 40 * MINUTE, address=PROVIDER)
    assert received(db, unpaid) == [october.total_cents]
    assert db.value("SELECT count(*) FROM payment_transactions WHERE invoice_id = ?", [unpaid]) == 1


def test_a_new_attempt_may_start_once_the_banks_expiry_has_surely_passed(db, parent_a, unpaid):
    first = payments.start_payment(db, parent_a, unpaid, key(1), PORT, DEMO_NOW)
    again = payments.start_payment(db, parent_a, unpaid, key(2), PORT, DEMO_NOW + 91 * MINUTE)
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
def test_the_provider_validity_is_a_setting_with_a_margin(db, parent_a, unpaid, minutes, blocked_until, free_at):
    db.write(lambda cur: cur.execute("INSERT INTO settings VALUES ('payment_attempt_minutes', ?)", [minutes]))
    payments.start_payment(db, parent_a, unpaid, key(1), PORT, DEMO_NOW)
    with pytest.raises(PaymentRefused, match="déjà en cours"):
        payments.start_payment(db, parent_a, unpaid, key(2), PORT, DEMO_NOW + (blocked_until - 1) * MINUTE)
    payments.start_payment(db, parent_a, unpaid, key(3), PORT, DEMO_NOW + free_at * MINUTE)


@pytest.mark.parametrize("decision, state", [("refuse", TxState.REFUSED), ("cancel", TxState.CANCELLED)])
def test_a_signed_paid_after_a_refusal_is_recorded_and_audited(db, parent_a, unpaid, october, decision, state):
    """The bank refused (or the family cancelled), then the same transaction is paid at the bank
    (a second try on its page): the money was taken, so it is recorded and audited."""
    started = payments.start_payment(db, parent_a, unpaid, key(1), PORT, DEMO_NOW)
    refused_page, paid_page = bank_page(db, started), bank_page(db, started)
    first = payments.record_answer(
        db, decide(db, refused_page, decision), "retour", DEMO_NOW + MINUTE, address=PROVIDER
    )
    assert first.state is state
    late = payments.record_answer(
        db, decide(db, paid_page, "pay"), "notification", DEMO_NOW + 2 * MINUTE, address=PROVIDER
    )
    assert late.state is TxState.PAID and late.changed
    assert received(db, unpaid) == [october.total_cents]
    assert db.value("SELECT state FROM payment_transactions WHERE invoice_id = ?", [unpaid]) == "paid"
    assert db.rows("SELECT action, before FROM audit_log WHERE action = 'payment.paid'") == [
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


def test_money_received_twice_is_kept_and_the_invoice_is_overpaid(town, db, parent_a, unpaid, october):
    total = october.total_cents
    first, _second, late = pay_twice(db, parent_a, unpaid)
    assert received(db, unpaid) == [total, total]
    assert late.overpaid_cents == total and f"trop-perçu de {comma(total)}" in late.message
    # The family and the staff see « Trop-perçu ».
    for who in (parent_a, town.login(town.admin)):
        row = invoicing.invoice_detail(db, who, unpaid, DEMO_NOW + 5 * MINUTE).row
        assert row.status is InvoiceStatus.OVERPAID and row.overpaid_cents == total
        assert f"{row.status.dot} {row.status.word}" == "🟣 Trop-perçu"
    assert payments.outcome_for_family(db, parent_a, first.transaction_ref)[1].startswith(
        f"Paiement enregistré : la facture {october.number} était déjà réglée"
    )
    paid = db.value("SELECT after FROM audit_log WHERE action = 'payment.paid' ORDER BY id DESC LIMIT 1")
    assert json.loads(paid)["overpaid_cents"] == total


def test_the_administrator_sees_the_refund_to_make(town, db, parent_a, unpaid, october):
    admin = town.login(town.admin)
    assert payments.overpaid_invoices(db, admin) == []
    first, second, _ = pay_twice(db, parent_a, unpaid)
    [owed] = payments.overpaid_invoices(db, admin)
    assert (owed.number, owed.family, owed.email, owed.refund_cents) == (
        october.number,
        october.family,
        town.parent_a,
        october.total_cents,
    )
    assert owed.payer == "Anne Aubert"  # the guardian the invoice is addressed to, who is refunded
    assert [(p.amount_cents, p.reference) for p in owed.payments] == [
        (october.total_cents, second.transaction_ref),
        (october.total_cents, first.transaction_ref),
    ]
    for who in (parent_a, town.login(town.agent)):
        with pytest.raises(NotAllowed):
            payments.overpaid_invoices(db, who)


# The two page tests stay on the demo: tests/helpers.py's app_test logs in only the demo's accounts (password "demo").
@pytest.fixture
def demo_db(demo_db):
    """The demo, paying through its Systempay sandbox (its second backend) as this module's bank does."""
    use_provider(demo_db, *SANDBOXES["systempay"])
    return demo_db


def test_the_billing_page_lists_the_refund(demo_db, parent):
    unpaid = unpaid_id(demo_db)
    first, second, _ = pay_twice(demo_db, parent, unpaid)
    at = app_test("pages/admin_facturation.py", demo_db, "admin@demo.fr").run()
    assert not at.exception, at.exception
    assert any("ont reçu plus que leur montant" in w.value for w in at.warning)
    [table] = [d.value for d in at.dataframe if "À rembourser" in d.value.columns]
    [row] = table.to_dict("records")
    assert row["Facture"] == "F-2026-000267" and row["Famille"] == "Famille Martin — Camille Martin (parent@demo.fr)"
    assert row["À rembourser"] == "83,50\u00a0€"
    assert first.transaction_ref in row["Paiements reçus"] and second.transaction_ref in row["Paiements reçus"]


def family_page(db):
    at = app_test("pages/mes_factures.py", db, "parent@demo.fr").run()
    assert not at.exception, at.exception
    return at


def test_the_family_sees_until_when_a_payment_is_in_progress_then_the_overpayment(demo_db, parent):
    unpaid = unpaid_id(demo_db)
    payments.start_payment(demo_db, parent, unpaid, key(1), PORT, DEMO_NOW)
    [info] = [i.value for i in family_page(demo_db).info if "Un paiement est en cours" in i.value]
    assert "un second paiement n'est pas possible" in info and "vous pourrez payer à nouveau après 11 h 00." in info
    demo_db.write(lambda cur: cur.execute("DELETE FROM payment_transactions"))
    pay_twice(demo_db, parent, unpaid)
    at = family_page(demo_db)
    assert any("🟣 Trop-perçu" in m.value for m in at.markdown)
    assert any("83,50\u00a0€ de plus que son montant" in i.value for i in at.info)
