"""An invoice as a PDF, laid out the French way: the town that issues it (name, address, SIRET), its
debtor (the guardian it is addressed to, with his address), dates, lines, totals, the payment
reference and every way to pay, the collection mode, the ordonnateur and the recourse — all of
that text from `lib.domain.invoice_text`, as the detail in « Mes factures » shows it. reportlab's
standard fonts cover French accents and the euro sign. Every text that is not ours (town,
family, address, line labels, contact) goes through `markup.pdf`: reportlab reads a Paragraph's
text as markup, and a family named « <b>O'Brien & <Fils> » must print as such."""

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


def _words(text: str) -> str:
    """Our invoice text for a Paragraph: escaped, its narrow no-break spaces widened as `_money` does."""
    return pdf(text).replace("\u202f", "\u00a0")


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
    words = detail.text
    small = styles["Normal"].clone("small", fontSize=8, leading=10)
    issuer = "<br/>".join(_words(line) for line in words.issuer) or pdf(settings.get("town_name", ""))
    story = [
        Paragraph(f"<b>{issuer}</b><br/>Service éducation – Portail Famille", styles["Normal"]),
        Spacer(1, 8 * mm),
        Paragraph(f"{title} N° {pdf(row.number)}", styles["Title"]),
        Paragraph(
            f"Période : {fr.month_year(row.month)}<br/>" + "<br/>".join(_words(line) for line in words.dates),
            styles["Normal"],
        ),
        Spacer(1, 6 * mm),
        Paragraph(
            f"<b>{_words(words.debtor[0])}</b><br/>" + "<br/>".join(_words(line) for line in words.debtor[1:]),
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
    if words.reference:
        story.append(Paragraph(f"<b>{_words(words.reference)}</b>", styles["Normal"]))
    if words.ways:
        ways = "<br/>".join(f"<b>{_words(way.title)}</b> : {_words(way.text)}" for way in words.ways)
        story += [Paragraph(f"<b>Comment payer ?</b><br/>{ways}", styles["Normal"]), Spacer(1, 4 * mm)]
    contact = settings.get("contact_email", "")
    if contact:
        story.append(Paragraph(f"Une question ? {pdf(contact)}", styles["Normal"]))
    story += [Spacer(1, 4 * mm), Paragraph(_words(words.collection), small)]
    if words.official:
        story.append(Paragraph(_words(words.official), small))
    if words.recourse:
        story += [Spacer(1, 2 * mm), Paragraph(_words(words.recourse), small)]
    doc.build(story)
    return buffer.getvalue()
