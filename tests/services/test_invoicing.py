from datetime import date, datetime, timedelta

import pytest

from lib.domain.clock import PARIS
from lib.domain.errors import InvalidInput, NotAllowed
from lib.domain.invoicing import Bracket, InvoiceStatus
from lib.services import attendance, invoicing, settings
from lib.services import reservations as r
from tests.conftest import DEMO_NOW, booked_days
from tests.helpers import set_base_tariffs, sorted_rows

NOVEMBER = date(2026, 11, 1)
AFTER_NOVEMBER = datetime(2026, 12, 3, 9, 0, tzinfo=PARIS)


def documents(db):
    return db.rows("SELECT * FROM invoices ORDER BY id"), sorted_rows(db, "SELECT * FROM invoice_lines")


def test_publishing_november_bills_booked_days_per_child_and_service(town):
    db = town.db
    admin = town.login(town.admin)
    before = documents(db)
    draft = invoicing.draft_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    assert documents(db) == before  # nothing written by the draft
    assert len(draft.documents) == 2 and draft.total_cents > 0  # each family with a child
    published = invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    assert len(published.numbers) == len(draft.documents) and published.total_cents == draft.total_cents
    seqs = [s for (s,) in db.rows("SELECT seq FROM invoices WHERE year = 2026 ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))  # gapless, following September and October
    assert published.numbers[0] == f"F-2026-{len(before[0]) + 1:06d}"  # after September's and October's
    # Alice's line: her booked November days at the canteen's price (no tariff brackets: 3,50 €).
    alice = len(booked_days(db, town.child_a, town.canteen, NOVEMBER, date(2026, 11, 30)))
    line = db.row(
        "SELECT l.quantity, l.unit_price_cents, l.amount_cents, l.label FROM invoice_lines l JOIN invoices i "
        "ON i.id = l.invoice_id WHERE i.period_month = ? AND l.child_id = ?",
        [NOVEMBER, town.child_a],
    )
    assert line == (alice, 350, alice * 350, "Alice — Restauration scolaire (novembre 2026)")
    assert (
        db.value(
            "SELECT count(*) FROM invoices WHERE total_cents <> (SELECT sum(amount_cents) FROM "
            "invoice_lines l WHERE l.invoice_id = invoices.id)"
        )
        == 0
    )
    due = db.row("SELECT issue_date, due_date FROM invoices WHERE number = ?", [published.numbers[0]])
    assert due == (date(2026, 12, 3), date(2027, 1, 2))
    entry = db.dicts("SELECT * FROM audit_log WHERE action = 'invoice.publish'")
    assert entry and entry[-1]["entity_id"] == "2026-11-01"


def test_publishing_twice_publishes_nothing_twice(town):
    db, admin = town.db, town.login(town.admin)
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    before = documents(db)
    again = invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER + timedelta(days=1))
    assert again.numbers == [] and "Rien de nouveau" in again.summary()
    assert documents(db) == before
    assert invoicing.draft_month(db, admin, date(2026, 10, 1), AFTER_NOVEMBER).documents == []


def publish_then_cancel_a_day(town) -> int:
    """Publish November, then staff cancel one of Alice's November days: returns her family's invoice id."""
    db = town.db
    invoicing.publish_month(db, town.login(town.admin), NOVEMBER, AFTER_NOVEMBER)
    agent = town.login(town.agent)
    day = booked_days(db, town.child_a, town.canteen, NOVEMBER, date(2026, 11, 30))[0]
    r.set_day(
        db,
        agent,
        r.booking_context(db, agent, town.child_a, town.school_year),
        town.canteen,
        day,
        False,
        AFTER_NOVEMBER,
        late=True,
        reason="absence signalée",
    )
    return db.value("SELECT id FROM invoices WHERE family_id = ? AND period_month = ?", [town.family_a, NOVEMBER])


def test_a_late_correction_gives_a_credit_note_not_an_edit(town):
    db = town.db
    first = db.row("SELECT number, total_cents FROM invoices WHERE id = ?", [publish_then_cancel_a_day(town)])
    correction = invoicing.publish_month(db, town.login(town.admin), NOVEMBER, AFTER_NOVEMBER)
    assert len(correction.numbers) == 1 and correction.numbers[0].startswith("AV-2026-")
    assert correction.total_cents == -350
    assert db.row("SELECT number, total_cents FROM invoices WHERE number = ?", [first[0]]) == first  # unchanged
    label = db.value(
        "SELECT label FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id WHERE i.number = ?",
        [correction.numbers[0]],
    )
    assert label.startswith("Régularisation : Alice")


def test_justified_absences_are_credited_when_the_town_says_so(town):
    db, admin, agent = town.db, town.login(town.admin), town.login(town.agent)
    for day in booked_days(db, town.child_a, town.canteen, NOVEMBER, date(2026, 11, 6)):  # a week ill, excused
        attendance.save(db, agent, day, town.school, town.canteen, {town.child_a: "justified"}, DEMO_NOW)
    justified = db.value(
        "SELECT count(*) FROM attendance a JOIN bookings b USING (child_id, service_id, day) "
        "WHERE a.status = 'justified' AND b.state = 'booked' AND a.day BETWEEN DATE '2026-11-01' "
        "AND DATE '2026-11-30'"
    )
    plain = invoicing.draft_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    db.write(
        lambda cur: cur.execute("UPDATE settings SET value = 'bookings_justified_credited' WHERE key = 'invoice_rule'")
    )
    credited = invoicing.draft_month(db, admin, NOVEMBER, AFTER_NOVEMBER)

    def days(draft):
        return sum(line.quantity for d in draft.documents for line in d.lines)

    assert justified > 0 and days(plain) - days(credited) == justified


def test_quotient_familial_tariffs_apply(town):
    db, admin = town.db, town.login(town.admin)
    set_base_tariffs(db, town.canteen, [(1000, 100), (None, 500)])
    draft = invoicing.draft_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    qf = dict(db.rows("SELECT id, quotient_familial FROM families"))
    for document in draft.documents:
        for line in document.lines:
            if line.service_id == town.canteen:
                assert line.unit_price_cents == (100 if qf[document.family_id] <= 1000 else 500)


@pytest.mark.parametrize(
    "month, now, words",
    [
        (date(2026, 11, 1), DEMO_NOW, "n'est pas terminé"),
        (date(2026, 8, 1), AFTER_NOVEMBER, "Aucune réservation à facturer pour août 2026"),
        ("2026-11", AFTER_NOVEMBER, "Choisissez un mois"),
    ],
)
def test_bad_months_are_refused_and_write_nothing(town, month, now, words):
    db, admin = town.db, town.login(town.admin)
    before = documents(db)
    with pytest.raises(InvalidInput, match=words):
        invoicing.publish_month(db, admin, month, now)
    assert documents(db) == before


@pytest.mark.parametrize("account", ["parent_a", "agent", "cook", "mayor"])
def test_only_the_administrator_invoices(town, account):
    who = town.login(getattr(town, account))
    with pytest.raises(NotAllowed):
        invoicing.draft_month(town.db, who, NOVEMBER, AFTER_NOVEMBER)
    with pytest.raises(NotAllowed):
        invoicing.publish_month(town.db, who, NOVEMBER, AFTER_NOVEMBER)


def test_a_family_sees_its_invoices_only(town):
    db, parent = town.db, town.login(town.parent_a)
    rows = invoicing.family_invoices(db, parent, DEMO_NOW)
    assert [(row.month, row.status) for row in rows] == [
        (date(2026, 10, 1), InvoiceStatus.UNPAID),
        (date(2026, 9, 1), InvoiceStatus.PAID),
    ]
    detail = invoicing.invoice_detail(db, parent, rows[0].id, DEMO_NOW)
    assert {line.first_name for line in detail.lines} == {"Alice", "Adrien"} and detail.payments == []
    other = db.value("SELECT min(id) FROM invoices WHERE family_id <> ?", [town.family_a])
    for forged in (other, 999_999, "1", None, True):
        with pytest.raises(NotAllowed, match="Facture introuvable ou non rattachée"):
            invoicing.invoice_detail(db, parent, forged, DEMO_NOW)
        with pytest.raises(NotAllowed):
            invoicing.invoice_pdf(db, parent, forged, DEMO_NOW)
    with pytest.raises(NotAllowed):
        invoicing.family_invoices(db, town.login(town.agent), DEMO_NOW)


def test_the_pdf_is_a_french_invoice(town):
    parent = town.login(town.parent_a)
    row = invoicing.family_invoices(town.db, parent, DEMO_NOW)[0]  # October, unpaid, due on 5 December
    pdf = invoicing.invoice_pdf(town.db, parent, row.id, DEMO_NOW)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1500
    from io import BytesIO

    import pypdf

    text = "".join(page.extract_text() for page in pypdf.PdfReader(BytesIO(pdf)).pages)
    left = f"{row.left_cents // 100},{row.left_cents % 100:02d}"
    for words in (f"FACTURE N° {row.number}", "Débiteur : Anne Aubert", "Reste à payer", left, "€", "05/12/2026"):
        assert words in text


def test_a_payment_just_after_midnight_is_dated_that_day_in_paris(town):
    # Stored in UTC, 23:30 on 1 November is 00:30 on 2 November in Paris: the day the family paid.
    from io import BytesIO

    import pypdf

    from lib.store import invoices as invoice_store

    parent = town.login(town.parent_a)
    row = invoicing.family_invoices(town.db, parent, DEMO_NOW)[0]  # October, unpaid
    town.db.write(
        lambda cur: invoice_store.insert_payment(cur, row.id, 1000, datetime(2026, 11, 1, 23, 30), "cheque", None, None)
    )
    (payment,) = invoicing.invoice_detail(town.db, parent, row.id, DEMO_NOW).payments
    assert payment.paid_at == datetime(2026, 11, 2, 0, 30, tzinfo=PARIS)
    pdf = invoicing.invoice_pdf(town.db, parent, row.id, DEMO_NOW)
    text = "".join(page.extract_text() for page in pypdf.PdfReader(BytesIO(pdf)).pages)
    assert "02/11/2026 : 10,00" in text and "01/11/2026" not in text


def test_refused_publications_and_absurd_tariffs_are_audited(town):
    db, admin = town.db, town.login(town.admin)
    with pytest.raises(InvalidInput):
        invoicing.publish_month(db, admin, date(2026, 8, 1), AFTER_NOVEMBER)
    with pytest.raises(InvalidInput):
        settings.set_tariffs(db, admin, town.canteen, [Bracket(700, -250)], DEMO_NOW)
    assert db.rows("SELECT tariffs.* FROM tariffs WHERE price_cents < 0") == []
    actions = [a for (a,) in db.rows("SELECT action FROM audit_log WHERE action LIKE '%refused' ORDER BY id")]
    assert actions == ["invoice.publish_refused", "tariff.refused"]


def test_a_credit_note_lowers_what_the_family_owes(town):
    from lib.services import home

    db, parent = town.db, town.login(town.parent_a)
    october = invoicing.family_invoices(db, parent, DEMO_NOW)[0].left_cents
    original = db.row("SELECT id, total_cents FROM invoices WHERE id = ?", [publish_then_cancel_a_day(town)])
    credit = invoicing.publish_month(db, town.login(town.admin), NOVEMBER, AFTER_NOVEMBER)
    assert db.value("SELECT corrects_invoice_id FROM invoices WHERE number = ?", [credit.numbers[0]]) == original[0]
    row = next(x for x in invoicing.family_invoices(db, parent, AFTER_NOVEMBER) if x.id == original[0])
    assert row.left_cents == original[1] - 350
    balance = home.family_home(db, parent, AFTER_NOVEMBER.date())
    assert balance.unpaid_cents == original[1] - 350 + october  # November less the credit, plus October


def test_a_tariff_change_never_reprices_a_published_month(town):
    admin = town.login(town.admin)
    set_base_tariffs(town.db, town.canteen, [(700, 260), (1200, 360), (None, 430)])
    assert invoicing.draft_month(town.db, admin, date(2026, 10, 1), AFTER_NOVEMBER).documents == []


def test_published_documents_are_the_draft_numbered_by_the_domain_rules(town):
    """Publishing numbers and inserts in SQL (set-based): each document is the draft's, its number
    and kind those of lib.domain.invoicing, its total the sum of its lines."""
    from lib.domain.invoicing import PREFIX, Kind, kind_for

    db, admin = town.db, town.login(town.admin)
    draft = invoicing.draft_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    stored = db.rows(
        "SELECT id, number, year, seq, kind, family_id, total_cents, due_date FROM invoices "
        "WHERE period_month = ? ORDER BY seq",
        [NOVEMBER],
    )
    assert [row[5] for row in stored] == [d.family_id for d in draft.documents]
    # The draft's table (by column, no Document made) says what the documents say.
    assert draft.documents.by_column() == {
        "family": [d.family for d in draft.documents],
        "payer": [d.payer for d in draft.documents],
        "lines": [len(d.lines) for d in draft.documents],
        "total_cents": [d.total_cents for d in draft.documents],
    }
    assert draft.total_cents == sum(row[6] for row in stored) and draft.documents[-1] == list(draft.documents)[-1]
    for (invoice_id, number, year, seq, kind, _, total, due), document in zip(stored, draft.documents):
        assert total == document.total_cents == sum(line.amount_cents for line in document.lines)
        assert Kind(kind) is kind_for(total) and number == f"{PREFIX[Kind(kind)]}-{year}-{seq:06d}"
        assert due == AFTER_NOVEMBER.date() + timedelta(days=30)
        lines = db.rows(
            "SELECT line_no, child_id, service_id, label, quantity, unit_price_cents, amount_cents "
            "FROM invoice_lines WHERE invoice_id = ? ORDER BY line_no",
            [invoice_id],
        )
        assert lines == [
            (n, line.child_id, line.service_id, line.label, line.quantity, line.unit_price_cents, line.amount_cents)
            for n, line in enumerate(document.lines, start=1)
        ]


def test_the_billing_page_offers_the_twelve_finished_months_latest_first():
    months = invoicing.billable_months(date(2027, 1, 31))
    assert months[:2] == [date(2026, 12, 1), date(2026, 11, 1)]  # not January: it is still running
    assert months[-1] == date(2026, 1, 1) and len(months) == 12
