"""An invoice as a PDF, laid out the French way (town, the payer — the guardian it is addressed to
— with his family and address, lines, total, due date, how to pay). reportlab's standard fonts cover French accents and the euro sign. Every text that is not
ours (town, family, address, line labels, contact) goes through `markup.pdf`: reportlab reads a
Paragraph's text as markup, and a family named « <b>O'Brien & <Fils> » must print as such."""

from __future__ import annotations

from io import BytesIO
from typing import TYPE_CHECKING

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from lib.domain import fr
from lib.domain.invoicing import Kind, method_label
from lib.domain.markup import pdf

if TYPE_CHECKING:  # lib.services.invoicing imports this module when a PDF is asked for
    from lib.services.invoicing import InvoiceDetail


def _money(cents: int) -> str:
    # Babel writes narrow no-break spaces, which the PDF standard fonts lack.
    return fr.euros(cents).replace("\u202f", "\u00a0")


def render(detail: InvoiceDetail, settings: dict[str, str]) -> bytes:
    row = detail.row
    styles = getSampleStyleSheet()
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{row.kind.word} {row.number}",
        author=settings.get("town_name", ""),
        lang="fr-FR",
    )
    title = row.kind.word.upper()
    story = [
        Paragraph(
            f"<b>{pdf(settings.get('town_name', ''))}</b><br/>Service éducation – Portail Famille", styles["Normal"]
        ),
        Spacer(1, 8 * mm),
        Paragraph(f"{title} N° {pdf(row.number)}", styles["Title"]),
        Paragraph(
            f"Période : {fr.month_year(row.month)}<br/>Date d'émission : {fr.numeric_date(row.issue_date)}"
            f"<br/>Date d'échéance : <b>{fr.numeric_date(row.due_date)}</b>",
            styles["Normal"],
        ),
        Spacer(1, 6 * mm),
        Paragraph(
            f"<b>{pdf(detail.payer_name or detail.family_name)}</b><br/>{pdf(detail.family_name)}"
            f"<br/>{pdf(detail.payer_address or '')}",
            styles["Normal"],
        ),
        Spacer(1, 8 * mm),
    ]
    table = [["Enfant – prestation", "Quantité", "Prix unitaire", "Montant"]]
    for line in detail.lines:
        table.append(
            [
                Paragraph(pdf(line.label), styles["Normal"]),
                str(line.quantity),
                _money(line.unit_price_cents),
                _money(line.amount_cents),
            ]
        )
    table.append(["", "", "Total", _money(row.total_cents)])
    if row.kind is Kind.INVOICE:
        table.append(["", "", "Déjà réglé", _money(row.paid_cents)])
        table.append(["", "", "Reste à payer", _money(row.left_cents)])
    grid = Table(table, colWidths=[90 * mm, 22 * mm, 30 * mm, 30 * mm], repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1d4ed8")),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("GRID", (0, 0), (-1, len(detail.lines)), 0.5, colors.grey),
                ("FONTNAME", (2, len(detail.lines) + 1), (-1, -1), "Helvetica-Bold"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story += [grid, Spacer(1, 8 * mm)]
    if detail.payments:
        paid = "<br/>".join(
            f"{fr.numeric_date(p.paid_at)} : {_money(p.amount_cents)} ({pdf(method_label(p.method))})"
            for p in detail.payments
        )
        story += [Paragraph(f"<b>Paiements reçus</b><br/>{paid}", styles["Normal"]), Spacer(1, 6 * mm)]
    contact = settings.get("contact_email", "")
    story.append(
        Paragraph(
            "<b>Comment payer ?</b><br/>En ligne sur le Portail Famille, rubrique « Mes factures », bouton « Payer » "
            "(si votre famille a le droit de payer en ligne) ; ou par chèque à l'ordre du Trésor public, en rappelant "
            f"le numéro {pdf(row.number)}, à déposer en mairie.<br/>Une question ? {pdf(contact)}",
            styles["Normal"],
        )
    )
    doc.build(story)
    return buffer.getvalue()
