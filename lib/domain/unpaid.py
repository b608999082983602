"""The unpaid invoices the town hands to its public accountant: what each still owes, how late it
is, and the CSV file the Trésor takes (the « état des restes à recouvrer »).

What an invoice still owes is `invoicing.left_to_pay(total, paid, credited)`, paid being the sum of
its payments ledger (a counter-entry cancels a payment, so the invoice owes again) and credited the
credit notes that correct it. The file's columns are defined once, in `COLUMNS`: the export and the
README's table both come from it. One line per invoice, UTF-8 with a BOM, `;`, amounts in euros
with a decimal comma (`spreadsheet.csv_bytes`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lib.domain import fr
from lib.domain.invoicing import left_to_pay, payment_reference
from lib.domain.spreadsheet import csv_bytes


@dataclass(frozen=True)
class UnpaidInvoice:
    invoice_id: int
    number: str
    family_id: int
    family: str
    month: date  # the period billed (its first day)
    issue_date: date
    due_date: date
    total_cents: int
    paid_cents: int  # the ledger's sum: payments less their counter-entries
    credited_cents: int  # credit notes correcting it, as a positive sum
    debtor_first_name: str
    debtor_last_name: str
    debtor_address: str  # '' when unknown
    services: str  # the services billed, « Restauration scolaire, Mercredi repas »

    @property
    def left_cents(self) -> int:
        return left_to_pay(self.total_cents, self.paid_cents, self.credited_cents)

    @property
    def debtor(self) -> str:
        return f"{self.debtor_first_name} {self.debtor_last_name}".strip()

    @property
    def reference(self) -> str:
        return payment_reference(self.number)

    def days_late(self, today: date) -> int:
        return days_late(self.due_date, today)


def days_late(due: date, today: date) -> int:
    """Days since the due date (0 until it has passed)."""
    return max((today - due).days, 0)


def lateness(due: date, today: date) -> str:
    """« À échoir », « Échue aujourd'hui »… « En retard de 12 jours »: how late, in words."""
    late = (today - due).days
    if late < 0:
        return "À échoir"
    if late == 0:
        return "Échue aujourd'hui"
    return f"En retard de {late} jour{'s' if late > 1 else ''}"


def euros_number(cents: int) -> Decimal:
    """An amount as a number of euros with its two decimals (83,50 in the file), summable."""
    return Decimal(cents).scaleb(-2)


@dataclass(frozen=True)
class Column:
    name: str
    example: str
    description: str  # French: the README's table
    value: Callable[[UnpaidInvoice, date], object]


COLUMNS: tuple[Column, ...] = (
    Column("numero_facture", "F-2026-000123", "Numéro de la facture.", lambda r, _: r.number),
    Column(
        "reference_paiement",
        "F2026000123",
        "Référence de paiement imprimée sur la facture (PayFiP, chèque, régie).",
        lambda r, _: r.reference,
    ),
    Column(
        "debiteur_nom",
        "Martin",
        "Nom du débiteur (le responsable à qui la facture est adressée).",
        lambda r, _: r.debtor_last_name,
    ),
    Column("debiteur_prenom", "Claire", "Prénom du débiteur.", lambda r, _: r.debtor_first_name),
    Column(
        "debiteur_adresse",
        "3 rue des Écoles, 31530 Levignac",
        "Adresse postale du débiteur, sur une ligne (vide si inconnue).",
        lambda r, _: r.debtor_address,
    ),
    Column("famille", "Famille Martin", "Nom du dossier famille dans le portail.", lambda r, _: r.family),
    Column("periode", "2026-10", "Mois facturé (AAAA-MM).", lambda r, _: r.month.strftime("%Y-%m")),
    Column(
        "objet",
        "Restauration scolaire – octobre 2026",
        "Objet de la créance : les prestations facturées et le mois.",
        lambda r, _: f"{r.services} – {fr.month_year(r.month)}" if r.services else fr.month_year(r.month),
    ),
    Column("date_emission", "05/11/2026", "Date d'émission (JJ/MM/AAAA).", lambda r, _: fr.numeric_date(r.issue_date)),
    Column("date_echeance", "05/12/2026", "Date d'échéance (JJ/MM/AAAA).", lambda r, _: fr.numeric_date(r.due_date)),
    Column(
        "jours_de_retard",
        "12",
        "Jours écoulés depuis l'échéance à la date de l'export (0 : pas encore échue).",
        lambda r, today: r.days_late(today),
    ),
    Column("montant_facture", "83,50", "Montant facturé, en euros.", lambda r, _: euros_number(r.total_cents)),
    Column(
        "montant_regle",
        "20,00",
        "Paiements reçus, en euros (contre-passations déduites).",
        lambda r, _: euros_number(r.paid_cents),
    ),
    Column(
        "montant_avoirs",
        "0,00",
        "Avoirs qui corrigent la facture, en euros.",
        lambda r, _: euros_number(r.credited_cents),
    ),
    Column("reste_a_payer", "63,50", "Reste à recouvrer, en euros.", lambda r, _: euros_number(r.left_cents)),
)
NAMES = tuple(c.name for c in COLUMNS)


def csv_file(rows: Iterable[UnpaidInvoice], today: date) -> bytes:
    """The export: the header, then one line per unpaid invoice."""
    return csv_bytes(NAMES, ([column.value(row, today) for column in COLUMNS] for row in rows))


def readme_table() -> str:
    """The file's layout as a Markdown table (README)."""
    lines = ["| colonne | exemple | contenu |", "|---|---|---|"]
    lines += [f"| `{c.name}` | {c.example} | {c.description} |" for c in COLUMNS]
    return "\n".join(lines)


@dataclass(frozen=True)
class FamilyTotal:
    family_id: int
    family: str
    debtors: str  # the guardians its unpaid invoices are addressed to
    invoices: int
    left_cents: int
    oldest_due: date


def by_family(rows: Sequence[UnpaidInvoice]) -> list[FamilyTotal]:
    """One total per family, the largest amount first."""
    groups: dict[int, list[UnpaidInvoice]] = {}
    for row in rows:
        groups.setdefault(row.family_id, []).append(row)
    totals = [
        FamilyTotal(
            family_id,
            found[0].family,
            ", ".join(sorted({r.debtor for r in found if r.debtor})),
            len(found),
            sum(r.left_cents for r in found),
            min(r.due_date for r in found),
        )
        for family_id, found in groups.items()
    ]
    return sorted(totals, key=lambda t: (-t.left_cents, t.family))
