import re
from datetime import date

import pytest

from lib.domain.errors import InvalidInput
from lib.domain.invoicing import (
    Bracket,
    InvoiceStatus,
    Kind,
    Line,
    PaymentMethod,
    TxState,
    check_brackets,
    check_tariff,
    due_date,
    invoice_status,
    kind_for,
    left_to_pay,
    method_label,
    next_state,
    outcome_message,
    overpaid_cents,
    payment_reference,
    sequence_after,
    tariff_for,
)

BRACKETS = [Bracket(None, 420), Bracket(700, 250), Bracket(1200, 350)]


@pytest.mark.parametrize(
    "qf, price", [(0, 250), (700, 250), (701, 350), (1200, 350), (1201, 420), (99_999, 420), (None, 420)]
)
def test_tariff_by_quotient_familial(qf, price):
    assert tariff_for(qf, BRACKETS, 999) == price


def test_no_brackets_means_the_service_price():
    assert tariff_for(500, [], 380) == 380


@pytest.mark.parametrize(
    "brackets, words",
    [
        ([Bracket(700, -1)], "montant impossible"),
        ([Bracket(700, 10_001)], "montant impossible"),
        ([Bracket(700, 2.5)], "centimes"),
        ([Bracket(700, 250), Bracket(700, 300)], "même plafond"),
        ([Bracket(-5, 250)], "Plafond"),
    ],
)
def test_absurd_tariffs_are_refused(brackets, words):
    with pytest.raises(InvalidInput, match=words):
        check_brackets(brackets)
    with pytest.raises(InvalidInput):
        tariff_for(800, brackets, 300)


def test_tariff_bounds():
    assert check_tariff(0) == 0 and check_tariff(10_000) == 10_000
    for bad in (-1, 10_001, "350", True, None):
        with pytest.raises(InvalidInput):
            check_tariff(bad)


def test_lines_and_totals_in_cents():
    lines = [Line(1, 1, "Léa — Cantine", 7, 350), Line(2, 3, "Hugo — Après-midi", 2, 800)]
    assert [line.amount_cents for line in lines] == [2450, 1600]
    assert kind_for(4050) is Kind.INVOICE and kind_for(-350) is Kind.CREDIT_NOTE and kind_for(0) is Kind.INVOICE
    assert [kind_for(t).word for t in (4050, 0, -350)] == ["Facture", "Facture", "Avoir"]


def test_numbers_are_gapless_per_year():
    # (documents, distinct numbers, highest number) of the year so far
    assert sequence_after(0, 0, 0) == 1 and sequence_after(3, 3, 3) == 4
    for gap_or_double in ((2, 2, 3), (3, 2, 2)):
        with pytest.raises(ValueError):
            sequence_after(*gap_or_double)


def test_status_and_what_is_left():
    assert left_to_pay(8350, 0) == 8350 and left_to_pay(8350, 9000) == 0
    assert invoice_status(Kind.INVOICE, 8350, 0, False) is InvoiceStatus.UNPAID
    assert invoice_status(Kind.INVOICE, 8350, 0, True) is InvoiceStatus.IN_PROGRESS
    assert invoice_status(Kind.INVOICE, 8350, 8350, False) is InvoiceStatus.PAID
    assert invoice_status(Kind.CREDIT_NOTE, -350, 0, False) is InvoiceStatus.CREDIT
    assert invoice_status(Kind.INVOICE, 8350, 16700, False) is InvoiceStatus.OVERPAID  # paid twice
    assert invoice_status(Kind.INVOICE, 8350, 8350, False, credited=350) is InvoiceStatus.OVERPAID
    assert (InvoiceStatus.OVERPAID.dot, InvoiceStatus.OVERPAID.word) == ("🟣", "Trop-perçu")
    assert overpaid_cents(8350, 16700) == 8350 and overpaid_cents(8350, 8000, 350) == 0
    assert (InvoiceStatus.UNPAID.dot, InvoiceStatus.UNPAID.word) == ("🔴", "Non soldée")
    assert (InvoiceStatus.PAID.dot, InvoiceStatus.PAID.word) == ("🟢", "Soldée")
    assert due_date(date(2026, 11, 5)) == date(2026, 12, 5)


@pytest.mark.parametrize(
    "current, outcome, expected",
    [
        (TxState.PENDING, TxState.PAID, TxState.PAID),
        (TxState.PENDING, TxState.REFUSED, TxState.REFUSED),
        (TxState.PAID, TxState.REFUSED, TxState.PAID),  # a payment cannot be undone
        (TxState.PAID, TxState.PAID, TxState.PAID),  # a replay changes nothing
        (TxState.EXPIRED, TxState.PAID, TxState.PAID),  # the bank's late "paid": money was taken…
        (TxState.CANCELLED, TxState.PAID, TxState.PAID),  # … whatever was said before
        (TxState.REFUSED, TxState.PAID, TxState.PAID),
        (TxState.ERROR, TxState.PAID, TxState.PAID),
        (TxState.EXPIRED, TxState.REFUSED, TxState.EXPIRED),
        (TxState.CANCELLED, TxState.REFUSED, TxState.CANCELLED),
    ],
)
def test_a_final_state_never_changes_but_money_taken_is_recorded(current, outcome, expected):
    assert next_state(current, outcome) is expected


def test_outcomes_speak_french():
    assert (
        outcome_message(TxState.PAID, "F-2026-000001")
        == "Paiement enregistré : la facture F-2026-000001 est soldée. Merci !"
    )
    assert "refusé" in outcome_message(TxState.REFUSED, "F") and "reste à payer" in outcome_message(
        TxState.CANCELLED, "F"
    )


@pytest.mark.parametrize(
    "number, reference",
    [("F-2026-000123", "F2026000123"), ("AV-2027-000001", "AV2027000001"), ("f-2026-1", "F20261")],
)
def test_the_payment_reference_is_the_number_in_letters_and_digits(number, reference):
    assert payment_reference(number) == reference
    assert re.fullmatch(r"[A-Z0-9]{1,30}", payment_reference(number))


def test_every_payment_method_has_a_label_and_an_adverb():
    for method in PaymentMethod:
        assert method.label and method.adverb
    assert method_label("cesu") == "CESU"
    assert method_label("inconnu") == "inconnu"
