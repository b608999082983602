"""The cash desk (« régie ») on the small town: the régisseur right, payments at the counter with
their receipts, counter-entries, the day's journal, and every refusal (French, typed, nothing
written, audited)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from pypdf import PdfReader

from lib.domain import fr
from lib.domain.cash_desk import CashPayment
from lib.domain.errors import InvalidInput, NotAllowed, NotFound
from lib.domain.invoicing import InvoiceStatus, payment_reference
from lib.services import cash_desk, invoicing, payments
from tests.conftest import DEMO_NOW
from tests.helpers import PORT, town_invoice

TABLES = ("payments", "cash_receipts", "outbox", "users")


def snapshot(db) -> dict[str, list]:
    """What the cash desk's entry points may write, table by table (the audit log apart)."""
    return {table: sorted(db.rows(f"SELECT * FROM {table}"), key=repr) for table in TABLES}


def audit_actions(db) -> list[str]:
    return [r[0] for r in db.rows("SELECT action FROM audit_log WHERE action LIKE 'cashdesk.%' ORDER BY id")]


def cheque(amount: str, number: str = "1234567", **more) -> CashPayment:
    return CashPayment("cheque", amount, bank=more.pop("bank", "Banque Postale"), cheque_number=number, **more)


def pdf_text(body: bytes) -> str:
    """The PDF's text, lines joined by a space (reportlab wraps long cells)."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages).split())


class Keys:
    """A fresh idempotency key per form, as the page makes them."""

    def __init__(self):
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"formulaire-{self.n:04d}"


@pytest.fixture
def key():
    return Keys()


@pytest.fixture
def admin(town):
    return town.login(town.admin)


@pytest.fixture
def regisseur(town, admin):
    """The town's agent, given the right by the administrator."""
    agent = town.login(town.agent)
    cash_desk.set_regisseur(town.db, admin, agent.user_id, True, DEMO_NOW)
    return agent


@pytest.fixture
def october(town):
    return town_invoice(town, town.family_a, 10)


def owed(town, invoice_id) -> int:
    return cash_desk.invoice(town.db, town.login(town.admin), invoice_id).left_cents


# --- the right ------------------------------------------------------------------------------------------


def test_the_administrator_grants_and_withdraws_the_right_and_the_journal_says_so(town, admin):
    agent = town.login(town.agent)
    assert not cash_desk.access(town.db, agent).records
    cash_desk.set_regisseur(town.db, admin, agent.user_id, True, DEMO_NOW)
    assert cash_desk.access(town.db, agent) == cash_desk.Access(records=True, reads=True)
    assert [a.name for a in cash_desk.staff_accounts(town.db, admin) if a.regisseur] == [agent.display_name]
    cash_desk.set_regisseur(town.db, admin, agent.user_id, False, DEMO_NOW)
    assert cash_desk.access(town.db, agent) == cash_desk.Access(records=False, reads=False)
    entries = town.db.rows("SELECT action, after FROM audit_log WHERE action = 'user.regisseur' ORDER BY id")
    assert [(a, '"regisseur": true' in after) for a, after in entries] == [
        ("user.regisseur", True),
        ("user.regisseur", False),
    ]


@pytest.mark.parametrize("who", ["agent", "cook", "mayor", "parent_a"])
def test_only_the_administrator_grants_the_right(town, who):
    actor = town.login(getattr(town, who))
    before = snapshot(town.db)
    with pytest.raises(NotAllowed):
        cash_desk.set_regisseur(town.db, actor, actor.user_id, True, DEMO_NOW)
    assert snapshot(town.db) == before
    assert town.db.value("SELECT count(*) FROM audit_log WHERE action = 'user.regisseur_refused'") == 1


def test_an_administrator_does_not_grant_himself_the_right(town, admin):
    before = snapshot(town.db)
    with pytest.raises(NotAllowed, match="Le droit de régisseur est donné par un autre administrateur"):
        cash_desk.set_regisseur(town.db, admin, admin.user_id, True, DEMO_NOW)
    assert snapshot(town.db) == before
    assert not cash_desk.access(town.db, admin).records
    assert town.db.value("SELECT count(*) FROM audit_log WHERE action = 'user.regisseur_refused'") == 1


@pytest.mark.parametrize("who", ["cook", "mayor", "parent_a"])
def test_the_kitchen_an_elected_or_a_family_cannot_hold_the_right(town, admin, who):
    holder = town.login(getattr(town, who))
    with pytest.raises(InvalidInput, match="Seul un agent ou un administrateur"):
        cash_desk.set_regisseur(town.db, admin, holder.user_id, True, DEMO_NOW)
    with pytest.raises(NotFound):
        cash_desk.set_regisseur(town.db, admin, 99999, True, DEMO_NOW)
    assert not town.db.value("SELECT count(*) FROM users WHERE regisseur")


# --- recording a payment -------------------------------------------------------------------------------------


def test_a_cheque_then_cash_pay_the_invoice_with_gapless_receipts(town, regisseur, october, key):
    first = cash_desk.record_payment(town.db, regisseur, october.id, cheque("10,00"), key(), DEMO_NOW)
    assert first.receipt.number == f"R-{DEMO_NOW.year}-000001"
    assert not first.replayed
    rest = owed(town, october.id)
    assert rest == october.total_cents - 1000
    second = cash_desk.record_payment(
        town.db, regisseur, october.id, CashPayment("especes", f"{rest / 100:.2f}".replace(".", ",")), key(), DEMO_NOW
    )
    assert second.receipt.number == f"R-{DEMO_NOW.year}-000002"
    assert owed(town, october.id) == 0
    rows = town.db.rows(
        "SELECT amount_cents, method, recorded_by FROM payments WHERE invoice_id = ? ORDER BY id", [october.id]
    )
    assert rows == [(1000, "cheque", regisseur.user_id), (rest, "especes", regisseur.user_id)]
    receipt = town.db.row(
        "SELECT bank, cheque_number, drawer, payer_name FROM cash_receipts WHERE number = ?", [first.receipt.number]
    )
    assert receipt == ("Banque Postale", "1234567", "Anne Aubert", "Anne Aubert")
    # The family's « Mes factures » shows it paid, by a mix of means.
    parent = town.login(town.parent_a)
    row = next(r for r in invoicing.family_invoices(town.db, parent, DEMO_NOW) if r.id == october.id)
    assert row.status is InvoiceStatus.PAID
    # Each payment queued the family's payment receipt e-mail, always sent (the staff recorded it).
    assert town.db.value("SELECT count(*) FROM outbox WHERE kind = 'payment_receipt'") == 2
    assert audit_actions(town.db) == ["cashdesk.payment", "cashdesk.payment"]


def test_an_online_payment_and_the_counter_make_the_invoice_paid(town, regisseur, october, key):
    from lib.store import invoices as invoice_store

    town.db.write(
        lambda cur: invoice_store.insert_payment(
            cur, october.id, 500, DEMO_NOW.replace(tzinfo=None), "online", None, None
        )
    )
    rest = owed(town, october.id)
    cash_desk.record_payment(
        town.db,
        regisseur,
        october.id,
        CashPayment("cesu", f"{rest // 100},{rest % 100:02d}", cesu_count="2"),
        key(),
        DEMO_NOW,
    )
    assert owed(town, october.id) == 0


def test_the_counter_waits_for_an_online_payment_in_progress(town, regisseur, october, key):
    parent = town.login(town.parent_a)
    payments.start_payment(town.db, parent, october.id, "p" * 24, PORT, DEMO_NOW)
    before = snapshot(town.db)
    rest = owed(town, october.id)
    cash = CashPayment("especes", f"{rest // 100},{rest % 100:02d}")
    later = DEMO_NOW + timedelta(minutes=20)
    with pytest.raises(InvalidInput) as refused:
        cash_desk.record_payment(town.db, regisseur, october.id, cash, key(), later)
    until = fr.hour(DEMO_NOW + payments.config(town.db).attempt_lifetime)
    assert refused.value.message == (
        f"Un paiement en ligne de la facture {october.number} est en cours depuis {fr.hour(DEMO_NOW)} : attendez "
        f"sa réponse (au plus tard {until}) avant d'encaisser au guichet."
    )
    assert snapshot(town.db) == before
    assert audit_actions(town.db) == ["cashdesk.refused"]
    # Once the bank can no longer take the money, the counter may.
    after = DEMO_NOW + payments.config(town.db).attempt_lifetime + timedelta(minutes=1)
    cash_desk.record_payment(town.db, regisseur, october.id, cash, key(), after)
    assert owed(town, october.id) == 0


def test_the_invoice_is_found_by_name_number_or_payment_reference(town, regisseur, october):
    for query in ("aubert", "ANNE", october.number, payment_reference(october.number)):
        found = cash_desk.find_invoices(town.db, regisseur, query)
        assert october.id in [f.id for f in found], query
    assert cash_desk.find_invoices(town.db, regisseur, "Aubert Besson") == []
    with pytest.raises(InvalidInput, match="au moins 2 caractères"):
        cash_desk.find_invoices(town.db, regisseur, " a ")


def test_a_double_submission_records_once(town, regisseur, october, key):
    form = key()
    first = cash_desk.record_payment(town.db, regisseur, october.id, cheque("10,00"), form, DEMO_NOW)
    again = cash_desk.record_payment(town.db, regisseur, october.id, cheque("10,00"), form, DEMO_NOW)
    assert again.replayed and again.receipt == first.receipt
    assert town.db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [october.id]) == 1


BAD_FORMS = [
    (cheque("0"), "supérieur à 0,00"),
    (cheque("-12"), "Montant négatif"),
    (cheque("douze"), "Montant illisible"),
    (cheque("12,345"), "Montant illisible"),
    (cheque("10", number=""), "numéro du chèque"),
    (cheque("10", number="12AB"), "Numéro du chèque illisible"),
    (cheque("10", bank=""), "banque du chèque"),
    (CashPayment("virement", "10"), "référence du virement"),
    (CashPayment("cesu", "10", cesu_count="deux"), "titres CESU illisible"),
    (CashPayment("bitcoin", "10"), "moyen de paiement"),
    (CashPayment("especes", "10", payer="x" * 200), "trop long"),
    (CashPayment("especes", "10", book_number="R-2026-000009"), "forme des reçus du portail"),
]


@pytest.mark.parametrize("form, message", BAD_FORMS)
def test_bad_input_is_refused_in_french_nothing_written_and_audited(town, regisseur, october, key, form, message):
    before = snapshot(town.db)
    with pytest.raises(InvalidInput, match=message):
        cash_desk.record_payment(town.db, regisseur, october.id, form, key(), DEMO_NOW)
    assert snapshot(town.db) == before
    assert audit_actions(town.db) == ["cashdesk.refused"]


def test_a_cheque_for_more_than_what_is_owed_is_refused(town, regisseur, october, key):
    before = snapshot(town.db)
    too_much = october.total_cents + 1
    with pytest.raises(InvalidInput, match=r"Le montant dépasse ce qui reste dû \(") as refused:
        cash_desk.record_payment(
            town.db, regisseur, october.id, cheque(f"{too_much // 100},{too_much % 100:02d}"), key(), DEMO_NOW
        )
    assert "chèque" in refused.value.message
    assert snapshot(town.db) == before
    assert audit_actions(town.db) == ["cashdesk.refused"]


def test_a_paid_invoice_a_credit_note_and_an_unknown_invoice_are_refused(town, regisseur, key):
    september = town_invoice(town, town.family_a, 9)  # family A paid September
    before = snapshot(town.db)
    with pytest.raises(InvalidInput, match="déjà réglée"):
        cash_desk.record_payment(town.db, regisseur, september.id, CashPayment("especes", "1"), key(), DEMO_NOW)
    with pytest.raises(NotFound, match="Facture introuvable"):
        cash_desk.record_payment(town.db, regisseur, 99999, CashPayment("especes", "1"), key(), DEMO_NOW)
    with pytest.raises(NotFound, match="Facture introuvable"):
        cash_desk.record_payment(town.db, regisseur, "12", CashPayment("especes", "1"), key(), DEMO_NOW)
    with pytest.raises(InvalidInput, match="Formulaire expiré"):
        cash_desk.record_payment(town.db, regisseur, september.id, CashPayment("especes", "1"), "", DEMO_NOW)
    assert snapshot(town.db) == before
    assert audit_actions(town.db) == ["cashdesk.refused"] * 4


def test_a_credit_note_is_not_paid(town, regisseur, october, key):
    from lib.store import invoices as invoice_store

    credit_id = town.db.write(
        lambda cur: cur.execute(
            """INSERT INTO invoices (id, number, year, seq, kind, family_id, period_month, issue_date, due_date,
                                     total_cents, corrects_invoice_id, created_at)
               SELECT ?, 'AV-2099-000001', 2099, 1, 'credit_note', family_id, period_month, issue_date, due_date,
                      -100, id, created_at FROM invoices WHERE id = ? RETURNING id""",
            [invoice_store.next_invoice_id(cur), october.id],
        ).fetchall()[0][0]
    )
    before = snapshot(town.db)
    with pytest.raises(InvalidInput, match="est un avoir"):
        cash_desk.record_payment(town.db, regisseur, credit_id, CashPayment("especes", "1"), key(), DEMO_NOW)
    assert snapshot(town.db) == before


@pytest.mark.parametrize("who", ["parent_a", "parent_b", "agent", "admin", "mayor", "cook"])
def test_only_a_regisseur_records_the_same_refusal_whether_the_invoice_exists_or_not(town, october, key, who):
    actor = town.login(getattr(town, who))
    before = snapshot(town.db)
    messages = []
    for invoice_id in (october.id, 99999):
        with pytest.raises(NotAllowed) as refused:
            cash_desk.record_payment(town.db, actor, invoice_id, CashPayment("especes", "1"), key(), DEMO_NOW)
        messages.append(refused.value.message)
    assert messages[0] == messages[1]
    assert snapshot(town.db) == before
    assert audit_actions(town.db) == ["cashdesk.refused"] * 2


def test_a_withdrawn_right_records_nothing_more(town, admin, regisseur, october, key):
    cash_desk.set_regisseur(town.db, admin, regisseur.user_id, False, DEMO_NOW)
    with pytest.raises(NotAllowed):
        cash_desk.record_payment(town.db, regisseur, october.id, CashPayment("especes", "1"), key(), DEMO_NOW)


@pytest.mark.parametrize("who", ["parent_a", "agent", "mayor", "cook"])
def test_only_regisseurs_and_the_administrator_read_the_regie(town, october, who):
    actor = town.login(getattr(town, who))
    for read in (
        lambda: cash_desk.find_invoices(town.db, actor, "Aubert"),
        lambda: cash_desk.invoice(town.db, actor, october.id),
        lambda: cash_desk.day_journal(town.db, actor, DEMO_NOW.date()),
        lambda: cash_desk.receipt(town.db, actor, 1),
    ):
        with pytest.raises(NotAllowed):
            read()
    assert cash_desk.day_journal(town.db, town.login(town.admin), DEMO_NOW.date()).receipts == []


# --- the paper receipt book ---------------------------------------------------------------------------------


def test_a_paper_book_number_is_used_once(town, regisseur, october, key):
    first = cash_desk.record_payment(
        town.db, regisseur, october.id, CashPayment("especes", "1", book_number=" Carnet 3  n° 0042 "), key(), DEMO_NOW
    )
    assert first.receipt.number == "Carnet 3 n° 0042"
    before = snapshot(town.db)
    with pytest.raises(InvalidInput, match="« Carnet 3 n° 0042 » est déjà utilisé"):
        cash_desk.record_payment(
            town.db, regisseur, october.id, CashPayment("especes", "1", book_number="Carnet 3 n° 0042"), key(), DEMO_NOW
        )
    assert snapshot(town.db) == before
    # The book's receipts stay out of the portal's sequence: the next portal number is the first.
    portal = cash_desk.record_payment(town.db, regisseur, october.id, CashPayment("especes", "1"), key(), DEMO_NOW)
    assert portal.receipt.number == f"R-{DEMO_NOW.year}-000001"


# --- corrections ------------------------------------------------------------------------------------------------


def test_a_payment_is_cancelled_once_by_a_counter_entry_with_its_own_receipt(town, regisseur, october, key):
    paid = cash_desk.record_payment(town.db, regisseur, october.id, cheque("10,00"), key(), DEMO_NOW)
    left = owed(town, october.id)
    before = snapshot(town.db)
    with pytest.raises(InvalidInput, match="motif"):
        cash_desk.cancel_payment(town.db, regisseur, paid.receipt.id, "  ", key(), DEMO_NOW)
    assert snapshot(town.db) == before
    cancelled = cash_desk.cancel_payment(
        town.db, regisseur, paid.receipt.id, "chèque saisi sur la mauvaise facture", key(), DEMO_NOW
    )
    assert cancelled.receipt.number == f"R-{DEMO_NOW.year}-000002"
    assert cancelled.receipt.cancels_number == paid.receipt.number
    assert cancelled.receipt.amount_cents == -1000
    assert owed(town, october.id) == left + 1000
    # The payment was not edited: its row is there, and the counter-entry beside it.
    rows = town.db.rows(
        "SELECT amount_cents, cancels_payment_id IS NOT NULL, reason FROM payments WHERE invoice_id = ? ORDER BY id",
        [october.id],
    )
    assert rows == [(1000, False, None), (-1000, True, "chèque saisi sur la mauvaise facture")]
    before = snapshot(town.db)
    with pytest.raises(InvalidInput, match="déjà annulé"):
        cash_desk.cancel_payment(town.db, regisseur, paid.receipt.id, "encore une fois", key(), DEMO_NOW)
    with pytest.raises(InvalidInput, match="lui-même une annulation"):
        cash_desk.cancel_payment(town.db, regisseur, cancelled.receipt.id, "encore une fois", key(), DEMO_NOW)
    with pytest.raises(NotFound):
        cash_desk.cancel_payment(town.db, regisseur, 99999, "encore une fois", key(), DEMO_NOW)
    assert snapshot(town.db) == before
    assert (
        audit_actions(town.db)
        == ["cashdesk.payment", "cashdesk.cancel_refused", "cashdesk.cancel"] + ["cashdesk.cancel_refused"] * 3
    )
    assert town.db.value("SELECT reason FROM audit_log WHERE action = 'cashdesk.cancel'") == (
        "chèque saisi sur la mauvaise facture"
    )


def test_an_agent_without_the_right_cannot_cancel(town, regisseur, october, key):
    paid = cash_desk.record_payment(town.db, regisseur, october.id, cheque("10,00"), key(), DEMO_NOW)
    for who in ("admin", "parent_a"):
        with pytest.raises(NotAllowed):
            cash_desk.cancel_payment(
                town.db, town.login(getattr(town, who)), paid.receipt.id, "erreur de saisie", key(), DEMO_NOW
            )
    assert town.db.value("SELECT count(*) FROM payments WHERE amount_cents < 0") == 0


# --- receipts and the journal ----------------------------------------------------------------------------------


def test_the_receipt_pdf_names_everything_and_a_reprint_is_a_duplicata(town, regisseur, october, key):
    paid = cash_desk.record_payment(
        town.db, regisseur, october.id, cheque("10,00", drawer="Paul Aubert"), key(), DEMO_NOW
    )
    text = pdf_text(cash_desk.receipt_pdf(town.db, regisseur, paid.receipt.id, duplicate=False))
    for expected in (
        "Ville de Petite-Ville",
        "Régie enfance de Petite-Ville",  # the town's régie, as its settings name it
        f"REÇU N° {paid.receipt.number}",
        "Anne Aubert",
        october.number,
        "10,00",
        "chèque n° 1234567, Banque Postale, tireur Paul Aubert",
        "27/11/2026",
        regisseur.display_name,
    ):
        assert expected in text, expected
    assert "DUPLICATA" not in text
    again = pdf_text(cash_desk.receipt_pdf(town.db, town.login(town.admin), paid.receipt.id, duplicate=True))
    assert "DUPLICATA" in again and f"N° {paid.receipt.number}" in again
    cancelled = cash_desk.cancel_payment(town.db, regisseur, paid.receipt.id, "erreur de facture", key(), DEMO_NOW)
    text = pdf_text(cash_desk.receipt_pdf(town.db, regisseur, cancelled.receipt.id, duplicate=False))
    assert f"REÇU D'ANNULATION N° {cancelled.receipt.number}" in text
    assert f"Annulation du reçu {paid.receipt.number}" in text and "-10,00" in text and "erreur de facture" in text


def test_the_day_journal_totals_each_means_and_exports_csv_and_pdf(town, regisseur, october, key):
    family_b = town_invoice(town, town.family_b, 10)
    one = cash_desk.record_payment(town.db, regisseur, october.id, cheque("10,00"), key(), DEMO_NOW)
    cash_desk.record_payment(town.db, regisseur, family_b.id, cheque("5,50", number="7654321"), key(), DEMO_NOW)
    cash_desk.record_payment(town.db, regisseur, family_b.id, CashPayment("especes", "2"), key(), DEMO_NOW)
    cash_desk.cancel_payment(town.db, regisseur, one.receipt.id, "chèque sans provision", key(), DEMO_NOW)
    # The next day's payment is in the next day's journal only.
    cash_desk.record_payment(
        town.db, regisseur, family_b.id, CashPayment("especes", "1"), key(), DEMO_NOW + timedelta(days=1)
    )
    journal = cash_desk.day_journal(town.db, town.login(town.admin), DEMO_NOW.date())
    assert len(journal.receipts) == 4
    totals = {t.method.value: (t.count, t.cents) for t in journal.totals.by_means}
    assert totals == {"cheque": (1, 550), "especes": (1, 200), "cesu": (0, 0), "virement": (0, 0)}
    assert journal.totals.cents == 750
    assert (
        cash_desk.day_journal(town.db, regisseur, DEMO_NOW.date(), regisseur.user_id).regisseur
        == regisseur.display_name
    )
    assert cash_desk.day_journal(town.db, regisseur, DEMO_NOW.date() + timedelta(days=2)).receipts == []
    with pytest.raises(NotFound):
        cash_desk.day_journal(town.db, regisseur, DEMO_NOW.date(), 99999)
    with pytest.raises(InvalidInput):
        cash_desk.day_journal(town.db, regisseur, "2026-11-27")

    body = cash_desk.journal_csv(town.db, regisseur, DEMO_NOW.date())
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Reçu" and rows[0][12] == "Montant (€)"
    assert [r[12] for r in rows[1:5]] == ["10,00", "5,50", "2,00", "-10,00"]
    assert rows[4][3] == f"Annulation du reçu {one.receipt.number} (facture {october.number})"
    assert rows[4][13] == "chèque sans provision"
    assert rows[-1][0] == "Total de la journée" and rows[-1][12] == "7,50"
    assert (rows[5][0], rows[5][3], rows[5][6], rows[5][12]) == ("Total", "1 reçu(s)", "chèque", "5,50")
    assert all(len(r) == len(rows[0]) for r in rows)

    text = pdf_text(cash_desk.journal_pdf(town.db, regisseur, DEMO_NOW.date()))
    for expected in (
        "Journal de caisse du 27/11/2026",
        "tous les régisseurs",
        "Total de la journée",
        "7,50",
        "sans provision",
    ):
        assert expected in text, expected


def test_invoices_still_owing_come_first(town, regisseur, key):
    september, october = town_invoice(town, town.family_b, 9), town_invoice(town, town.family_b, 10)
    amount = f"{october.total_cents // 100},{october.total_cents % 100:02d}"
    cash_desk.record_payment(town.db, regisseur, october.id, CashPayment("especes", amount), key(), DEMO_NOW)
    found = cash_desk.find_invoices(town.db, regisseur, "Besson")
    assert [(f.id, f.paid) for f in found] == [(september.id, False), (october.id, True)]
