"""The cash desk's printed documents (reportlab): a receipt (« reçu », its « Duplicata » when printed
again) and the day's cash journal the régisseur hands to the public accountant. Every text that is
not ours (town, names, bank, reason) goes through `markup.pdf`, as in lib/services/invoice_pdf.py."""

from __future__ import annotations

from io import BytesIO
from typing import TYPE_CHECKING

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, A5, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from lib.domain import fr
from lib.domain.cash_desk import REGIE_NAME, Receipt, means_heading, means_text, what_text
from lib.domain.markup import pdf

if TYPE_CHECKING:  # lib.services.cash_desk imports this module when a PDF is asked for
    from lib.services.cash_desk import CashJournal


def _money(cents: int) -> str:
    # Babel writes narrow no-break spaces, which the PDF standard fonts lack.
    return fr.euros(cents).replace("\u202f", "\u00a0")


def _header(settings: dict[str, str]) -> str:
    return f"<b>{pdf(settings.get('town_name', ''))}</b><br/>{pdf(settings.get('regie_name') or REGIE_NAME)}"


def receipt_document(receipt: Receipt, settings: dict[str, str], *, duplicate: bool) -> bytes:
    """One receipt on an A5 page: who paid what, for which invoice, how, when, to whom."""
    styles = getSampleStyleSheet()
    buffer = BytesIO()
    title = "Reçu d'annulation" if receipt.is_cancellation else "Reçu"
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A5,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"{title} {receipt.number}" + (" – Duplicata" if duplicate else ""),
        author=settings.get("town_name", ""),
        lang="fr-FR",
    )
    story = [Paragraph(_header(settings), styles["Normal"]), Spacer(1, 6 * mm)]
    story.append(Paragraph(f"{title.upper()} N° {pdf(receipt.number)}", styles["Title"]))
    if duplicate:
        story.append(Paragraph("<b>DUPLICATA</b> – ce reçu a déjà été remis une première fois.", styles["Normal"]))
    rows = [
        ["Date", fr.numeric_date_time(receipt.issued_at)],
        ["Objet", Paragraph(pdf(what_text(receipt)), styles["Normal"])],
        ["Famille", Paragraph(pdf(receipt.family), styles["Normal"])],
        ["Payeur", Paragraph(pdf(receipt.payer), styles["Normal"])],
        ["Montant", _money(receipt.amount_cents)],
        ["Moyen de paiement", Paragraph(pdf(means_text(receipt)), styles["Normal"])],
        ["Régisseur", Paragraph(pdf(receipt.regisseur), styles["Normal"])],
    ]
    if receipt.reason:
        rows.append(["Motif", Paragraph(pdf(receipt.reason), styles["Normal"])])
    grid = Table(rows, colWidths=[38 * mm, 86 * mm])
    grid.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"),
                ("FONTNAME", (1, 4), (1, 4), "Helvetica-Bold"),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story += [Spacer(1, 4 * mm), grid, Spacer(1, 8 * mm)]
    story.append(
        Paragraph(
            "Reçu délivré par le régisseur de recettes de la commune, pour le compte du comptable public. "
            "Conservez-le : il prouve votre paiement.<br/><br/>Signature du régisseur :",
            styles["Normal"],
        )
    )
    doc.build(story)
    return buffer.getvalue()


def journal_document(journal: CashJournal, settings: dict[str, str]) -> bytes:
    """The day's journal on landscape A4 pages: each receipt, then the totals per means (the cheques'
    count and sum for the bank remittance slip) and the day's total."""
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    buffer = BytesIO()
    day = fr.numeric_date(journal.day)
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"Journal de caisse du {day}",
        author=settings.get("town_name", ""),
        lang="fr-FR",
    )
    who = journal.regisseur or "tous les régisseurs"
    story = [
        Paragraph(_header(settings), styles["Normal"]),
        Spacer(1, 4 * mm),
        Paragraph(f"Journal de caisse du {day}", styles["Title"]),
        Paragraph(f"Régisseur : {pdf(who)}", styles["Normal"]),
        Spacer(1, 4 * mm),
    ]
    if journal.receipts:
        lines: list[list[object]] = [["Reçu", "Heure", "Objet", "Payeur", "Moyen", "Montant", "Régisseur"]]
        for r in journal.receipts:
            lines.append(
                [
                    pdf(r.number),
                    fr.hour(r.issued_at),
                    Paragraph(pdf(what_text(r) + (f" – motif : {r.reason}" if r.reason else "")), small),
                    Paragraph(pdf(r.payer), small),
                    Paragraph(pdf(means_text(r)), small),
                    _money(r.amount_cents),
                    Paragraph(pdf(r.regisseur), small),
                ]
            )
        grid = Table(lines, colWidths=[30 * mm, 16 * mm, 70 * mm, 40 * mm, 58 * mm, 26 * mm, 33 * mm], repeatRows=1)
        grid.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                    ("FONTSIZE", (0, 0), (-1, -1), 8),
                    ("ALIGN", (5, 0), (5, -1), "RIGHT"),
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        story += [grid, Spacer(1, 6 * mm)]
    else:
        story += [Paragraph("Aucun paiement reçu ce jour-là.", styles["Normal"]), Spacer(1, 6 * mm)]
    totals: list[list[object]] = [["Moyen de paiement", "Nombre", "Montant"]]
    totals += [[means_heading(t.method), str(t.count), _money(t.cents)] for t in journal.totals.by_means]
    totals.append(["Total de la journée", str(journal.totals.count), _money(journal.totals.cents)])
    summary = Table(totals, colWidths=[60 * mm, 25 * mm, 35 * mm])
    summary.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
            ]
        )
    )
    story += [summary, Spacer(1, 8 * mm), Paragraph("Visa du régisseur :", styles["Normal"])]
    doc.build(story)
    return buffer.getvalue()
