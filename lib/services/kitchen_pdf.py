"""The production sheet as a printable PDF (A4, large figures for the kitchen wall). Every name
goes through `markup.pdf`: reportlab reads a Paragraph's text as markup."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from lib.domain import fr
from lib.domain.markup import pdf


def render(sheet, town: str, now: datetime) -> bytes:
    styles = getSampleStyleSheet()
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"Repas du {fr.numeric_date(sheet.day)}",
        lang="fr-FR",
    )
    story = [
        Paragraph(f"<b>{pdf(town)}</b> – fiche de production", styles["Normal"]),
        Paragraph(f"Repas du {fr.long_date(sheet.day)}", styles["Title"]),
        Paragraph(sheet.status_text.replace("✅ ", "").replace("⏳ ", ""), styles["Normal"]),
        Paragraph(f"Imprimée le {fr.numeric_date_time(now)}.", styles["Normal"]),
        Spacer(1, 6 * mm),
    ]
    table = [["Structure", "Prestation", "Régime", "Repas"]]
    table += [
        [Paragraph(pdf(r[name]), styles["Normal"]) for name in ("site", "service", "diet")] + [str(r["meals"])]
        for r in sheet.rows
    ]
    table.append(["TOTAL", "", "", str(sheet.total)])
    grid = Table(table, colWidths=[70 * mm, 40 * mm, 40 * mm, 25 * mm], repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1d4ed8")),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
                ("FONTSIZE", (3, 1), (3, -1), 14),
                ("ALIGN", (3, 0), (3, -1), "RIGHT"),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story.append(grid)
    doc.build(story)
    return buffer.getvalue()
