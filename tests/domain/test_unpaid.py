"""The unpaid invoices' rules: what is left, how late, the Trésor's CSV layout, totals per family."""

from datetime import date

from lib.domain.unpaid import COLUMNS, NAMES, UnpaidInvoice, by_family, csv_file, days_late, lateness, readme_table


def unpaid(**changes) -> UnpaidInvoice:
    base = {
        "invoice_id": 7,
        "number": "F-2026-000123",
        "family_id": 3,
        "family": "Famille Martin",
        "month": date(2026, 10, 1),
        "issue_date": date(2026, 11, 5),
        "due_date": date(2026, 12, 5),
        "total_cents": 8350,
        "paid_cents": 2000,
        "credited_cents": 350,
        "debtor_first_name": "Claire",
        "debtor_last_name": "Martin",
        "debtor_address": "3 rue des Écoles, 31530 Levignac",
        "services": "Mercredi repas, Restauration scolaire",
    }
    return UnpaidInvoice(**{**base, **changes})


def test_left_is_total_less_the_ledger_less_credit_notes():
    assert unpaid().left_cents == 8350 - 2000 - 350
    assert unpaid(paid_cents=9000).left_cents == 0
    assert unpaid().reference == "F2026000123" and unpaid().debtor == "Claire Martin"


def test_how_late():
    due = date(2026, 12, 5)
    assert days_late(due, date(2026, 12, 1)) == 0 and days_late(due, date(2026, 12, 17)) == 12
    assert lateness(due, date(2026, 12, 1)) == "À échoir"
    assert lateness(due, due) == "Échue aujourd'hui"
    assert lateness(due, date(2026, 12, 6)) == "En retard de 1 jour"
    assert lateness(due, date(2026, 12, 17)) == "En retard de 12 jours"


def test_the_csv_has_its_documented_columns_and_french_amounts():
    assert NAMES == (
        "numero_facture",
        "reference_paiement",
        "debiteur_nom",
        "debiteur_prenom",
        "debiteur_adresse",
        "famille",
        "periode",
        "objet",
        "date_emission",
        "date_echeance",
        "jours_de_retard",
        "montant_facture",
        "montant_regle",
        "montant_avoirs",
        "reste_a_payer",
    )
    body = csv_file([unpaid(), unpaid(number="F-2026-000124", debtor_address="=1+1")], date(2026, 12, 17))
    assert body.startswith("\ufeff".encode())
    header, first, second = body.decode("utf-8-sig").splitlines()
    assert header == ";".join(NAMES)
    assert first.split(";") == [
        "F-2026-000123",
        "F2026000123",
        "Martin",
        "Claire",
        "3 rue des Écoles, 31530 Levignac",
        "Famille Martin",
        "2026-10",
        "Mercredi repas, Restauration scolaire – octobre 2026",
        "05/11/2026",
        "05/12/2026",
        "12",
        "83,50",
        "20,00",
        "3,50",
        "60,00",
    ]
    assert second.split(";")[4] == "'=1+1"  # a formula typed as an address stays text


def test_the_readme_table_lists_every_column_once():
    table = readme_table()
    assert table.count("\n") == len(COLUMNS) + 1
    assert all(f"| `{c.name}` |" in table for c in COLUMNS)


def test_totals_per_family_the_largest_first():
    rows = [
        unpaid(),
        unpaid(number="F-2026-000200", due_date=date(2026, 11, 2), paid_cents=0, credited_cents=0),
        unpaid(family_id=4, family="Famille Aubert", debtor_first_name="Anne", debtor_last_name="Aubert"),
    ]
    martin, aubert = by_family(rows)
    assert (martin.family, martin.invoices, martin.left_cents, martin.oldest_due) == (
        "Famille Martin",
        2,
        6000 + 8350,
        date(2026, 11, 2),
    )
    assert (aubert.family, aubert.debtors, aubert.left_cents) == ("Famille Aubert", "Anne Aubert", 6000)
