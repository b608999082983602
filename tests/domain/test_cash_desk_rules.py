"""The cash desk's rules (lib/domain/cash_desk.py): amounts, the form's checks per means, what is
owed, receipt numbers, the paper book's numbers, the search's terms and the day's totals."""

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.domain import cash_desk as rules
from lib.domain.cash_desk import CashPayment, Receipt
from lib.domain.clock import PARIS
from lib.domain.errors import InvalidInput
from lib.domain.invoicing import PaymentMethod, payment_reference


@pytest.mark.parametrize(
    "typed, cents",
    [("45,50", 4550), ("45.5", 4550), ("12", 1200), (" 1 234,05 € ", 123405), ("0,01", 1), ("7\u00a0€", 700)],
)
def test_amounts_are_read_the_french_way(typed, cents):
    assert rules.parse_amount(typed) == cents


@pytest.mark.parametrize(
    "typed, message",
    [
        ("0", "supérieur à 0,00"),
        ("0,00", "supérieur à 0,00"),
        ("-5", "Montant négatif"),
        ("douze", "Montant illisible"),
        ("1,234", "Montant illisible"),
        ("", "Montant illisible"),
        (None, "Montant illisible"),
        (12, "Montant illisible"),
        ("1e3", "Montant illisible"),
    ],
)
def test_bad_amounts_are_refused_in_french(typed, message):
    with pytest.raises(InvalidInput, match=message):
        rules.parse_amount(typed)


@given(st.integers(min_value=1, max_value=99_999_999))
def test_an_amount_written_as_the_page_writes_it_reads_back(cents):
    assert rules.parse_amount(f"{cents // 100},{cents % 100:02d}") == cents


def test_each_means_keeps_its_own_details():
    cheque = rules.checked(CashPayment("cheque", "10", " Anne  Aubert ", "La Poste", "0012345", ""))
    assert cheque == rules.CheckedPayment(
        PaymentMethod.CHEQUE, 1000, "Anne Aubert", bank="La Poste", cheque_number="0012345", drawer=None
    )
    assert rules.checked(CashPayment("cesu", "10", cesu_count="3")).cesu_count == 3
    assert rules.checked(CashPayment("cesu", "10", cesu_count="")).cesu_count is None
    assert rules.checked(CashPayment("virement", "10", transfer_ref="VIR 123")).transfer_ref == "VIR 123"
    cash = rules.checked(CashPayment(PaymentMethod.CASH, "10", bank="ignorée", cheque_number="1"))
    assert (cash.bank, cash.cheque_number) == (None, None)


@pytest.mark.parametrize(
    "form, message",
    [
        (CashPayment("cheque", "10", bank="La Poste"), "numéro du chèque"),
        (CashPayment("cheque", "10", bank="La Poste", cheque_number="12 34"), "Numéro du chèque illisible"),
        (CashPayment("cheque", "10", cheque_number="1234"), "banque du chèque"),
        (CashPayment("virement", "10"), "référence du virement"),
        (CashPayment("cesu", "10", cesu_count="0"), "entre 1 et"),
        (CashPayment("cesu", "10", cesu_count=True), "titres CESU illisible"),
        (CashPayment("online", "10"), "moyen de paiement"),
        (CashPayment("prelevement", "10"), "moyen de paiement"),
        (CashPayment("especes", "10", payer="a\x00b"), "illisible"),
        (CashPayment("especes", "10", payer=["x"]), "illisible"),
    ],
)
def test_a_form_missing_what_its_means_needs_is_refused(form, message):
    with pytest.raises(InvalidInput, match=message):
        rules.checked(form)


def test_never_more_than_what_is_owed():
    rules.check_owed(4550, 4550)
    with pytest.raises(InvalidInput, match=r"Le montant dépasse ce qui reste dû \(45,50"):
        rules.check_owed(4551, 4550)
    with pytest.raises(InvalidInput, match="déjà réglée"):
        rules.check_owed(1, 0)


def test_receipt_numbers_and_the_paper_book():
    assert rules.receipt_number(2026, 1) == "R-2026-000001"
    assert rules.checked_book_number("  ") is None
    assert rules.checked_book_number(" Carnet 3  n° 42 ") == "Carnet 3 n° 42"
    for portal_like in ("R-2026-000001", "r2026000001"):
        with pytest.raises(InvalidInput, match="forme des reçus du portail"):
            rules.checked_book_number(portal_like)
    with pytest.raises(InvalidInput, match="trop long"):
        rules.checked_book_number("x" * 31)


def test_the_form_key_and_the_reason():
    assert rules.checked_key("0123456789abcdef") == "0123456789abcdef"
    for bad in ("", "court", "a b c d e f g h", None, 42):
        with pytest.raises(InvalidInput, match="Formulaire expiré"):
            rules.checked_key(bad)
    assert rules.checked_reason("  chèque   sans provision ") == "chèque sans provision"
    with pytest.raises(InvalidInput, match="motif"):
        rules.checked_reason("oups")


def test_search_terms_name_number_or_payment_reference():
    assert rules.search_terms("Léa  AUBERT") == rules.Search(["lea", "aubert"], ["LÉA AUBERT"])
    number = "F-2026-000123"
    assert rules.search_terms(payment_reference(number)).numbers == [payment_reference(number), number]
    assert number in rules.search_terms(number.lower()).numbers
    with pytest.raises(InvalidInput, match="au moins 2"):
        rules.search_terms("a")


def _receipt(method, cents, cancels=None, **details):
    return Receipt(
        1,
        "R-2026-000001",
        datetime(2026, 11, 27, 9, 30, tzinfo=PARIS),
        1,
        "F-2026-000001",
        "Famille Aubert",
        "Anne Aubert",
        cents,
        method,
        "Agnès Durand",
        1,
        cancels_number=cancels,
        **details,
    )


def test_day_totals_per_means_count_cancellations_against_them():
    day = [
        _receipt(PaymentMethod.CHEQUE, 1000),
        _receipt(PaymentMethod.CHEQUE, 550),
        _receipt(PaymentMethod.CASH, 200),
        _receipt(PaymentMethod.CHEQUE, -1000, cancels="R-2026-000001"),
    ]
    totals = rules.day_totals(day)
    assert [(t.method, t.count, t.cents) for t in totals.by_means] == [
        (PaymentMethod.CHEQUE, 1, 550),
        (PaymentMethod.CASH, 1, 200),
        (PaymentMethod.CESU, 0, 0),
        (PaymentMethod.TRANSFER, 0, 0),
    ]
    assert (totals.count, totals.cents) == (2, 750)
    assert rules.day_totals([]).cents == 0


def test_the_means_and_what_a_receipt_is_for_in_french():
    cheque = _receipt(PaymentMethod.CHEQUE, 1000, bank="La Poste", cheque_number="12", drawer="Paul Aubert")
    assert rules.means_text(cheque) == "chèque n° 12, La Poste, tireur Paul Aubert"
    assert rules.means_text(_receipt(PaymentMethod.CESU, 1000, cesu_count=1)) == "CESU (1 titre)"
    assert rules.means_text(_receipt(PaymentMethod.CESU, 1000, cesu_count=3)) == "CESU (3 titres)"
    assert rules.means_text(_receipt(PaymentMethod.TRANSFER, 1000, transfer_ref="VIR 9")) == "virement, référence VIR 9"
    assert rules.means_heading(PaymentMethod.CESU) == "CESU" and rules.means_heading(PaymentMethod.CASH) == "Espèces"
    assert rules.what_text(cheque) == "Facture F-2026-000001"
    cancel = _receipt(PaymentMethod.CASH, -1000, cancels="R-2026-000001")
    assert rules.what_text(cancel) == "Annulation du reçu R-2026-000001 (facture F-2026-000001)"


def test_csv_amounts_are_numbers_in_euros():
    assert rules.cents_as_euros(-1250) == Decimal("-12.50") and str(rules.cents_as_euros(5)) == "0.05"
    row = rules.journal_rows([_receipt(PaymentMethod.CASH, 200)])[0]
    assert len(row) == len(rules.JOURNAL_HEADERS) and row[12] == Decimal("2.00")


def test_the_audit_log_says_what_the_regie_did_in_french():
    from lib.domain.journal import KINDS, Entry, sentence

    paid = Entry(
        "cashdesk.payment",
        "invoice",
        "7",
        after={"receipt": "R-2026-000001", "amount_cents": 5000, "method": "cheque"},
        invoice="F-2026-000267",
    )
    assert (
        sentence(paid)
        == "A encaissé 50,00\u00a0€ par chèque à la régie pour la facture F-2026-000267 (reçu R-2026-000001)"
    )
    cancel = Entry(
        "cashdesk.cancel",
        "invoice",
        "7",
        before={"receipt": "R-2026-000001"},
        after={"receipt": "R-2026-000002"},
        invoice="F-2026-000267",
    )
    assert sentence(cancel) == (
        "A annulé le reçu R-2026-000001 de la régie pour la facture F-2026-000267 (reçu d'annulation R-2026-000002)"
    )
    granted = Entry("user.regisseur", "user", "4", after={"regisseur": True, "name": "Agnès Durand"})
    withdrawn = Entry("user.regisseur", "user", "4", after={"regisseur": False, "name": "Agnès Durand"})
    assert sentence(granted) == "A donné le droit de régisseur à « Agnès Durand »"
    assert sentence(withdrawn) == "A retiré le droit de régisseur à « Agnès Durand »"
    assert sentence(Entry("cashdesk.refused", "invoice", "7", invoice="F-2026-000267")) == (
        "Paiement à la régie refusé pour la facture F-2026-000267"
    )
    assert "cashdesk." in KINDS["Régie (paiements en mairie)"]


def test_only_a_payment_not_yet_cancelled_may_be_cancelled():
    assert _receipt(PaymentMethod.CASH, 200).cancellable
    assert not _receipt(PaymentMethod.CASH, 200, cancelled_by="R-2026-000002").cancellable
    assert not _receipt(PaymentMethod.CASH, -200, cancels="R-2026-000001").cancellable
