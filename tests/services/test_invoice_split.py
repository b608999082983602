"""Who an invoice is addressed to (issue 15): the billed guardian, or for shared custody each
guardian his share of each child's lines; what each guardian's account sees and may pay; the QF in
force on the billed month. On the small town: family A (Alice, Adrien) gets a second guardian with
his own account, through lib.services.families as the town hall would."""

import csv
import zipfile
from collections import defaultdict
from datetime import date, datetime
from io import BytesIO, StringIO

import pypdf
import pytest

from lib.domain.actor import Actor
from lib.domain.clock import PARIS
from lib.domain.errors import NotAllowed
from lib.domain.families import GuardianInput, QfSource, QuotientInput
from lib.domain.invoicing import split_cents
from lib.services import auth, families, invoicing, payments
from lib.services import reservations as r
from tests.conftest import DEMO_NOW, booked_days
from tests.helpers import PORT, TOWN_PASSWORD, Town, set_base_tariffs

NOVEMBER = date(2026, 11, 1)
AFTER_NOVEMBER = datetime(2026, 12, 3, 9, 0, tzinfo=PARIS)
FIRST = GuardianInput("Anne", "Aubert", "famille01@petite-ville.test", None, "1 place de la Mairie")
SECOND = GuardianInput("Marc", "Roux", "marc.roux@petite-ville.test", None, "8 rue des Lilas")
KEY = "split-key-0123456789"


def guardian_account(town: Town, email: str) -> Actor:
    """An account of family A for its guardian 2 (what the accounts slice makes; here by hand)."""
    db = town.db
    user_id = db.value("SELECT max(id) + 1 FROM users")
    password_hash = auth.hash_password(TOWN_PASSWORD)

    def work(cur):
        cur.execute(
            "INSERT INTO users (id, email, password_hash, role, family_id, display_name, created_at) "
            "VALUES (?, ?, ?, 'famille', ?, 'Marc Roux', '2026-09-01 08:00')",
            [user_id, email, password_hash, town.family_a],
        )
        cur.execute("UPDATE guardians SET user_id = ? WHERE family_id = ? AND rank = 2", [user_id, town.family_a])

    db.write(work)
    return town.login(email)


def family_a_billed(town: Town, mode: str) -> tuple[int, int]:
    """Family A with its two guardians, billed `mode`; (guardian 1's id, guardian 2's id)."""
    admin = town.login(town.admin)
    first = families.save_guardian(town.db, admin, town.family_a, 1, FIRST, DEMO_NOW)
    second = families.save_guardian(town.db, admin, town.family_a, 2, SECOND, DEMO_NOW)
    families.update_family(town.db, admin, town.family_a, "Famille Aubert", None, mode, DEMO_NOW)
    return first, second


@pytest.fixture
def split(town) -> tuple[int, int]:
    """Family A split: Alice 70 % for guardian 1, 30 % for guardian 2; Adrien without shares (50/50)."""
    guardians = family_a_billed(town, "split")
    families.save_shares(town.db, town.login(town.admin), town.child_a, [70, 30], DEMO_NOW)
    return guardians


def month_of(db, family_id: int, month: date = NOVEMBER) -> list[tuple]:
    """(id, number, kind, payer, total, corrects) of a family's documents of a month, by number."""
    return db.rows(
        "SELECT id, number, kind, payer_guardian_id, total_cents, corrects_invoice_id FROM invoices "
        "WHERE family_id = ? AND period_month = ? ORDER BY seq",
        [family_id, month],
    )


def lines_of(db, invoice_id: int) -> list[tuple]:
    return db.rows(
        "SELECT child_id, service_id, quantity, unit_price_cents, amount_cents, label FROM invoice_lines "
        "WHERE invoice_id = ? ORDER BY line_no",
        [invoice_id],
    )


def pdf_text(db, actor, invoice_id) -> str:
    pdf = invoicing.invoice_pdf(db, actor, invoice_id, AFTER_NOVEMBER)
    return " ".join(" ".join(page.extract_text() for page in pypdf.PdfReader(BytesIO(pdf)).pages).split())


def cancel_an_alice_day(town: Town) -> None:
    agent = town.login(town.agent)
    day = booked_days(town.db, town.child_a, town.canteen, NOVEMBER, date(2026, 11, 30))[0]
    context = r.booking_context(town.db, agent, town.child_a, town.school_year)
    r.set_day(town.db, agent, context, town.canteen, day, False, AFTER_NOVEMBER, late=True, reason="absence")


def test_a_split_family_gets_two_invoices_whose_shares_sum_to_each_line(town, split):
    db, admin = town.db, town.login(town.admin)
    first, second = split
    families.update_family(db, admin, town.family_a, "Famille Aubert", None, "guardian1", DEMO_NOW)
    whole = {
        (line.child_id, line.service_id): line.amount_cents
        for d in invoicing.draft_month(db, admin, NOVEMBER, AFTER_NOVEMBER).documents
        if d.family_id == town.family_a
        for line in d.lines
    }
    families.update_family(db, admin, town.family_a, "Famille Aubert", None, "split", DEMO_NOW)
    published = invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    documents = month_of(db, town.family_a)
    assert [(kind, payer) for _, _, kind, payer, _, _ in documents] == [("invoice", first), ("invoice", second)]
    assert sum(total for *_, total, _ in documents) == sum(whole.values())
    # Each invoice its own number, the year's sequence still gapless.
    assert [number for _, number, *_ in documents] == [n for n in published.numbers if n in {d[1] for d in documents}]
    assert db.value("SELECT count(*) = count(DISTINCT seq) AND count(*) = max(seq) FROM invoices WHERE year = 2026")
    shares = defaultdict(list)
    for invoice_id, *_ in documents:
        for child, service, quantity, price, amount, label in lines_of(db, invoice_id):
            shares[child, service].append(amount)
            assert quantity * price == whole[child, service] and label.endswith(" %")
    assert {key: sum(amounts) for key, amounts in shares.items()} == whole
    for (child, service), amounts in shares.items():
        assert amounts == split_cents(whole[child, service], [70, 30] if child == town.child_a else [50, 50])
    assert (
        db.value(
            "SELECT count(*) FROM invoices i WHERE period_month = ? AND total_cents <> "
            "(SELECT sum(amount_cents) FROM invoice_lines l WHERE l.invoice_id = i.id)",
            [NOVEMBER],
        )
        == 0
    )
    # Family B, billed its guardian 1, is not split.
    (b,) = month_of(db, town.family_b)
    assert all(" — part " not in label for *_, label in lines_of(db, b[0]))
    # Publishing again issues nothing: a split line's quantity is billed once.
    assert invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER).numbers == []


def test_a_share_of_0_percent_makes_no_line(town, split):
    db, admin = town.db, town.login(town.admin)
    families.save_shares(db, admin, town.child_a, [100, 0], DEMO_NOW)
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    (first, *_), (second, *_) = month_of(db, town.family_a)
    assert {child for child, *_ in lines_of(db, second)} == {town.child_a2}
    assert all(" — part " not in label for child, *_, label in lines_of(db, first) if child == town.child_a)


def test_the_pdf_is_addressed_to_each_payer(town, split):
    db, admin = town.db, town.login(town.admin)
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    (first, *_), (second, *_) = month_of(db, town.family_a)
    text = pdf_text(db, admin, first)
    assert "Anne Aubert" in text and "1 place de la Mairie" in text and "Marc Roux" not in text
    text = pdf_text(db, admin, second)
    assert "Marc Roux" in text and "8 rue des Lilas" in text and "Anne Aubert" not in text
    assert "Débiteur : Marc Roux" in text and "Famille Aubert" not in text and "part 30 %" in text


def test_each_guardian_sees_and_pays_only_his_own_invoices(town, split):
    db, admin = town.db, town.login(town.admin)
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    anne, marc = town.login(town.parent_a), guardian_account(town, SECOND.email)
    (first, *_), (second, *_) = month_of(db, town.family_a)
    anne_rows = invoicing.family_invoices(db, anne, AFTER_NOVEMBER)
    marc_rows = invoicing.family_invoices(db, marc, AFTER_NOVEMBER)
    assert [row.id for row in marc_rows] == [second] and marc_rows[0].payer == "Marc Roux"
    assert second not in {row.id for row in anne_rows} and first in {row.id for row in anne_rows}
    assert {row.month for row in anne_rows} == {date(2026, 9, 1), date(2026, 10, 1), NOVEMBER}  # hers, before too
    for forged in (first, month_of(db, town.family_b)[0][0]):  # the other guardian's, another family's
        with pytest.raises(NotAllowed, match="Facture introuvable ou non rattachée"):
            invoicing.invoice_detail(db, marc, forged, AFTER_NOVEMBER)
    before = db.rows("SELECT * FROM payment_transactions")
    refusals = []
    for forged in (first, month_of(db, town.family_b)[0][0]):
        with pytest.raises(NotAllowed) as refused:
            payments.start_payment(db, marc, forged, KEY, PORT, AFTER_NOVEMBER)
        refusals.append(str(refused.value))
    assert refusals[0] == refusals[1] == "Facture introuvable ou non rattachée à votre compte."
    assert db.rows("SELECT * FROM payment_transactions") == before
    assert db.value(
        "SELECT count(*) FROM audit_log WHERE action = 'payment.start_refused' AND entity_id = ?", [str(first)]
    )
    # His own: the provider is given his e-mail.
    started = payments.start_payment(db, marc, second, KEY, PORT, AFTER_NOVEMBER)
    assert {f["name"]: f["value"] for f in started.fields}["vads_cust_email"] == SECOND.email


def test_in_shared_custody_each_guardian_is_told_of_his_own_invoice_only(town, split):
    """The e-mails follow who sees an invoice: each guardian hears of his share, not of the other's."""
    db, admin = town.db, town.login(town.admin)
    guardian_account(town, SECOND.email)
    db.write(lambda cur: cur.execute("DELETE FROM outbox"))
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    (_, first_number, *_), (_, second_number, *_) = month_of(db, town.family_a)
    told = db.rows(
        "SELECT to_address, subject FROM outbox WHERE kind = 'invoice_published' AND family_id = ? ORDER BY 1",
        [town.family_a],
    )
    assert sorted((to, first_number in subject, second_number in subject) for to, subject in told) == sorted(
        [(SECOND.email, False, True), (town.parent_a, True, False)]
    )


def test_billed_to_one_guardian_every_account_of_the_family_is_told(town):
    db, admin = town.db, town.login(town.admin)
    family_a_billed(town, "guardian1")
    guardian_account(town, SECOND.email)
    db.write(lambda cur: cur.execute("DELETE FROM outbox"))
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    told = db.rows(
        "SELECT to_address FROM outbox WHERE kind = 'invoice_published' AND family_id = ? ORDER BY 1", [town.family_a]
    )
    assert [to for (to,) in told] == sorted([SECOND.email, town.parent_a])


def test_a_credit_note_follows_the_split_of_what_it_corrects(town, split):
    db, admin = town.db, town.login(town.admin)
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    (first, *_), (second, *_) = month_of(db, town.family_a)
    # The shares change afterwards: the days already billed are credited as they were billed.
    families.save_shares(db, admin, town.child_a, [50, 50], DEMO_NOW)
    cancel_an_alice_day(town)
    correction = invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    assert len(correction.numbers) == 2 and correction.total_cents == -350
    notes = [d for d in month_of(db, town.family_a) if d[2] == "credit_note"]
    first_g, second_g = split
    assert [(payer, total, corrects) for _, _, _, payer, total, corrects in notes] == [
        (first_g, -245, first),
        (second_g, -105, second),
    ]
    assert all(label.startswith("Régularisation : Alice") for n in notes for *_, label in lines_of(db, n[0]))
    assert invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER).numbers == []


def test_billed_to_guardian_2_the_invoice_is_addressed_to_him(town):
    db, admin = town.db, town.login(town.admin)
    _, second = family_a_billed(town, "guardian2")
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    ((invoice_id, _, _, payer, _, _),) = month_of(db, town.family_a)
    assert payer == second and invoicing.invoice_detail(db, admin, invoice_id, AFTER_NOVEMBER).payer_name == "Marc Roux"
    assert "Marc Roux" in pdf_text(db, admin, invoice_id)
    # The bill is not split: every account of the family sees it and may pay it (the family owes it);
    # the payment provider is given the e-mail of the guardian it is addressed to.
    anne, marc = town.login(town.parent_a), guardian_account(town, SECOND.email)
    for account in (anne, marc):
        (row,) = [row for row in invoicing.family_invoices(db, account, AFTER_NOVEMBER) if row.id == invoice_id]
        assert row.payable_by_you
    started = payments.start_payment(db, anne, invoice_id, KEY, PORT, AFTER_NOVEMBER)
    assert {f["name"]: f["value"] for f in started.fields}["vads_cust_email"] == SECOND.email


def test_a_month_is_priced_at_the_qf_in_force_that_month(town):
    """Family A's QF is 600 since before the year. A QF recorded in December, valid from December,
    does not reprice October's late addition; one valid from mid-November prices November."""
    db, admin, agent = town.db, town.login(town.admin), town.login(town.agent)
    set_base_tariffs(db, town.canteen, [(1000, 100), (None, 500)])
    families.record_quotient(
        db, admin, town.family_a, QuotientInput(1500, date(2026, 12, 1), QfSource.CAF, "1234567"), AFTER_NOVEMBER
    )
    assert db.value("SELECT quotient_familial FROM families WHERE id = ?", [town.family_a]) == 1500
    thursday = date(2026, 10, 1)  # Adrien eats at the canteen on Mondays, Tuesdays and Fridays
    context = r.booking_context(db, agent, town.child_a2, town.school_year)
    r.set_day(db, agent, context, town.canteen, thursday, True, AFTER_NOVEMBER, late=True, reason="oubli")
    invoicing.publish_month(db, admin, date(2026, 10, 1), AFTER_NOVEMBER)
    added = month_of(db, town.family_a, date(2026, 10, 1))[-1][0]
    assert [(child, quantity, price) for child, _, quantity, price, *_ in lines_of(db, added)] == [
        (town.child_a2, 1, 100)
    ]
    families.record_quotient(
        db, admin, town.family_a, QuotientInput(1200, date(2026, 11, 15), QfSource.CAF, "1234567"), AFTER_NOVEMBER
    )
    november = invoicing.draft_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    prices = {
        line.unit_price_cents
        for d in november.documents
        if d.family_id == town.family_a
        for line in d.lines
        if line.service_id == town.canteen
    }
    assert prices == {500}


@pytest.mark.parametrize("price", [1, 337, 350])
def test_the_month_s_sql_shares_as_split_cents_does(town, split, price):
    """lib/store/invoices.py `_month_lines` writes split_cents's rule in SQL: every share of every
    line agrees with it, ties and 0 % included."""
    db, admin = town.db, town.login(town.admin)
    set_base_tariffs(db, town.canteen, [(None, price)])
    for first in (0, 1, 7, 33, 49, 50, 67, 70, 99, 100):
        families.save_shares(db, admin, town.child_a, [first, 100 - first], DEMO_NOW)
        documents = invoicing.draft_month(db, admin, NOVEMBER, AFTER_NOVEMBER).documents
        shares = defaultdict(list)
        for d in documents:
            if d.family_id == town.family_a:
                for line in d.lines:
                    shares[line.child_id, line.service_id].append((d.payer, line))
        for (child, _), payers in shares.items():
            whole = payers[0][1].quantity * payers[0][1].unit_price_cents
            percents = [first, 100 - first] if child == town.child_a else [50, 50]
            expected = split_cents(whole, percents)
            by_payer = dict.fromkeys(["Anne Aubert", "Marc Roux"], 0) | {p: line.amount_cents for p, line in payers}
            assert [by_payer["Anne Aubert"], by_payer["Marc Roux"]] == expected, (first, child)


def test_in_shared_custody_each_guardian_s_own_data_holds_his_own_invoices_and_payments_only(town, split):
    """The right-of-access ZIP follows « Mes factures »: each guardian gets his invoices and their
    payments, not the other guardian's."""
    db, admin = town.db, town.login(town.admin)
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    (first, first_no, *_), (second, second_no, *_) = month_of(db, town.family_a)
    for invoice_id in (first, second):
        db.write(
            lambda cur, i=invoice_id: cur.execute(
                "INSERT INTO payments (invoice_id, amount_cents, paid_at, method) VALUES (?, 100, ?, 'cheque')",
                [i, datetime(2026, 12, 2, 9, 0)],
            )
        )

    def invoice_files(actor) -> tuple[set[str], set[str]]:
        archive = zipfile.ZipFile(BytesIO(families.my_data(db, actor, AFTER_NOVEMBER)))
        invoices = list(csv.DictReader(StringIO(archive.read("factures.csv").decode("utf-8-sig")), delimiter=";"))
        paid = list(csv.DictReader(StringIO(archive.read("paiements.csv").decode("utf-8-sig")), delimiter=";"))
        assert "split_family" not in invoices[0] and "payer_user_id" not in invoices[0]
        return {r["numero"] for r in invoices}, {r["facture"] for r in paid}

    anne, marc = town.login(town.parent_a), guardian_account(town, SECOND.email)
    anne_invoices, anne_paid = invoice_files(anne)
    marc_invoices, marc_paid = invoice_files(marc)
    assert first_no in anne_invoices and second_no not in anne_invoices
    assert first_no in anne_paid and second_no not in anne_paid and anne_paid <= anne_invoices
    assert marc_invoices == {second_no} and marc_paid == {second_no}
    assert anne_invoices == {row.number for row in invoicing.family_invoices(db, anne, AFTER_NOVEMBER)}
