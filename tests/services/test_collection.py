"""Collecting the town's invoices: its legal settings (checked as a whole, nothing written on a
refusal), what the invoice and its PDF say, the unpaid list and the Trésor's CSV (ledger-aware:
partial payments, counter-entries, credit notes; staff only)."""

from datetime import date, datetime, timedelta
from io import BytesIO

import pypdf
import pytest

from lib.domain.clock import PARIS, to_utc_naive
from lib.domain.errors import InvalidInput, NotAllowed
from lib.domain.unpaid import NAMES
from lib.services import collection, invoicing
from lib.services import reservations as r
from lib.store import invoices as invoice_store
from lib.store import payments as payment_store
from tests.conftest import DEMO_NOW, booked_days

NOVEMBER = date(2026, 11, 1)
AFTER_NOVEMBER = datetime(2026, 12, 3, 9, 0, tzinfo=PARIS)
FORM = {
    "town_address": "Place de la Mairie, 31530 Levignac",
    "town_siret": "213 102 973 00012",
    "collection_mode": "asap",
    "official_name": "Monique Garrigues",
    "official_title": "Maire",
    "accountant_name": "SGC de Colomiers",
    "accountant_address": "4 allée du Rouergue, 31770 Colomiers",
    "regie_name": "",
    "regie_address": "",
    "regie_hours": "",
}


def settings_rows(db):
    return db.rows("SELECT * FROM settings ORDER BY key")


def pdf_text(db, actor, invoice_id) -> str:
    pdf = invoicing.invoice_pdf(db, actor, invoice_id, DEMO_NOW)
    return " ".join(page.extract_text() for page in pypdf.PdfReader(BytesIO(pdf)).pages).replace("\n", " ")


def october(town, family_id):
    return town.db.value(
        "SELECT id FROM invoices WHERE family_id = ? AND period_month = DATE '2026-10-01' AND kind = 'invoice'",
        [family_id],
    )


# --- the settings -------------------------------------------------------------------------------------


def test_the_administrator_saves_the_invoices_legal_settings_audited(town):
    db, admin = town.db, town.login(town.admin)
    message = collection.save_legal(db, admin, FORM, DEMO_NOW)
    assert message.startswith("Mentions des factures enregistrées : ")
    stored = collection.legal_settings(db, admin)
    assert stored["town_siret"] == "21310297300012" and stored["collection_mode"] == "asap"
    assert stored["regie_name"] == ""  # emptied: the ASAP town has no régie
    changed = {e for (e,) in db.rows("SELECT entity_id FROM audit_log WHERE action = 'setting.update'")}
    assert {"town_siret", "collection_mode", "accountant_name", "regie_name"} <= changed
    assert collection.save_legal(db, admin, FORM, DEMO_NOW) == "Aucun changement."


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"town_siret": "21310297300013"}, "n'est pas un numéro SIRET valide"),
        ({"accountant_address": ""}, "Adresse du comptable public : ce champ est obligatoire"),
        ({"collection_mode": "regie"}, "Nom de la régie \\(ordre des chèques\\) : ce champ est obligatoire"),
        ({"town_address": "   "}, "Adresse de la mairie : ce champ est obligatoire"),
        ({"collection_mode": None}, "Mode de recouvrement"),
        ({"public_url": "http://x"}, "Réglage inconnu"),
    ],
)
def test_bad_settings_are_refused_in_french_nothing_written_and_the_refusal_audited(town, changes, message):
    db, admin = town.db, town.login(town.admin)
    before = settings_rows(db)
    with pytest.raises(InvalidInput, match=message):
        collection.save_legal(db, admin, {**FORM, **changes}, DEMO_NOW)
    assert settings_rows(db) == before
    assert db.value("SELECT count(*) FROM audit_log WHERE action = 'setting.update'") == 0
    assert db.value("SELECT count(*) FROM audit_log WHERE action = 'setting.legal_refused'") == 1


def test_only_the_administrator_writes_them(town):
    db = town.db
    before = settings_rows(db)
    for who in (town.agent, town.parent_a, town.cook, town.mayor):
        with pytest.raises(NotAllowed):
            collection.save_legal(db, town.login(who), FORM, DEMO_NOW)
    assert settings_rows(db) == before
    for who in (town.parent_a, town.cook, town.mayor):
        with pytest.raises(NotAllowed):
            collection.legal_settings(db, town.login(who))


# --- what the invoice says ----------------------------------------------------------------------------


def test_the_pdf_names_the_guardian_the_town_the_regie_and_the_recourse(town):
    db, parent = town.db, town.login(town.parent_a)
    db.write(lambda cur: cur.execute("UPDATE guardians SET address = '5 chemin des Vignes, 31000 Petite-Ville'"))
    invoice = october(town, town.family_a)
    text = pdf_text(db, parent, invoice)
    number = db.value("SELECT number FROM invoices WHERE id = ?", [invoice])
    reference = number.replace("-", "")
    for words in (
        "Débiteur : Anne Aubert",
        "5 chemin des Vignes, 31000 Petite-Ville",
        "Ville de Petite-Ville (essais)",
        "SIRET : 213 109 994 00011",
        f"Référence de paiement : {reference}",
        "Date d'émission : 05/11/2026",
        "Date d'échéance : 05/12/2026",
        "à l'ordre de « Régie enfance de Petite-Ville »",
        "En espèces ou en CESU",
        "du lundi au vendredi de 8 h 30 à 12 h",
        "Prélèvement automatique",
        "régie de recettes de la commune",
        "L'ordonnateur : Marie Garrigou, Maire",
        "article L1617-5 du code général des collectivités territoriales",
    ):
        assert words in text, words
    assert "Famille Aubert" not in text and "Trésor public, en inscrivant" not in text


def test_under_an_avis_des_sommes_a_payer_cheques_go_to_the_tresor(town):
    db, parent = town.db, town.login(town.parent_a)
    collection.save_legal(db, town.login(town.admin), FORM, DEMO_NOW)
    detail = invoicing.invoice_detail(db, parent, october(town, town.family_a), DEMO_NOW)
    assert [w.title for w in detail.text.ways] == ["En ligne", "Par chèque", "Prélèvement automatique"]
    text = pdf_text(db, parent, detail.row.id)
    assert "à l'ordre du Trésor public" in text and "SGC de Colomiers" in text and "En espèces" not in text
    assert "avis des sommes à payer" in text and "SIRET : 213 102 973 00012" in text


def test_a_paid_invoice_asks_for_nothing_more(town):
    db, parent = town.db, town.login(town.parent_a)
    september = db.value(
        "SELECT id FROM invoices WHERE family_id = ? AND period_month = DATE '2026-09-01'", [town.family_a]
    )
    detail = invoicing.invoice_detail(db, parent, september, DEMO_NOW)
    assert detail.text.ways == () and detail.text.recourse  # the recourse stays on the document
    assert "Comment payer" not in pdf_text(db, parent, september)


def test_the_published_invoices_e_mail_gives_the_payment_reference(town):
    db, admin = town.db, town.login(town.admin)
    published = invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    body = db.value(
        "SELECT body_text FROM outbox WHERE kind = 'invoice_published' AND subject LIKE ? LIMIT 1",
        [f"%{published.numbers[0]}%"],
    )
    assert f"Référence de paiement : {published.numbers[0].replace('-', '')}" in body


# --- the unpaid list ------------------------------------------------------------------------------------


def pay(db, invoice_id, cents, method="cheque") -> int:
    at = to_utc_naive(DEMO_NOW)
    return db.write(lambda cur: invoice_store.insert_payment(cur, invoice_id, cents, at, method, None, None))


def test_the_unpaid_list_counts_the_ledger_partial_payments_and_counter_entries(town):
    db, agent = town.db, town.login(town.agent)
    a_october = october(town, town.family_a)
    total = db.value("SELECT total_cents FROM invoices WHERE id = ?", [a_october])
    pay(db, a_october, 2000)  # a partial payment
    bounced = pay(db, a_october, 1500)  # a cheque that bounced: cancelled by a counter-entry
    db.write(
        lambda cur: payment_store.insert_counter_entry(cur, bounced, to_utc_naive(DEMO_NOW), "chèque rejeté", None)
    )
    found = collection.unpaid(db, agent, DEMO_NOW.date())
    row = next(r for r in found.rows if r.invoice_id == a_october)
    assert (row.paid_cents, row.left_cents) == (2000, total - 2000)
    assert row.debtor == "Anne Aubert" and row.reference == row.number.replace("-", "")
    assert {r.family_id for r in found.rows} == {town.family_a, town.family_b}
    assert found.left_cents == sum(r.left_cents for r in found.rows)
    # Paid in full, an invoice leaves the list; its counter-entry brings it back.
    last = pay(db, a_october, total - 2000)
    assert a_october not in {r.invoice_id for r in collection.unpaid(db, agent, DEMO_NOW.date()).rows}
    db.write(lambda cur: payment_store.insert_counter_entry(cur, last, to_utc_naive(DEMO_NOW), "erreur", None))
    assert a_october in {r.invoice_id for r in collection.unpaid(db, agent, DEMO_NOW.date()).rows}


def test_a_credit_note_reduces_what_is_owed(town):
    db, admin = town.db, town.login(town.admin)
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    agent = town.login(town.agent)
    day = booked_days(db, town.child_a, town.canteen, NOVEMBER, date(2026, 11, 30))[0]
    context = r.booking_context(db, agent, town.child_a, town.school_year)
    r.set_day(db, agent, context, town.canteen, day, False, AFTER_NOVEMBER, late=True, reason="absence signalée")
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)  # the credit note
    november = db.value(
        "SELECT id FROM invoices WHERE family_id = ? AND period_month = ? AND kind = 'invoice'",
        [town.family_a, NOVEMBER],
    )
    total = db.value("SELECT total_cents FROM invoices WHERE id = ?", [november])
    (row,) = collection.unpaid(db, admin, AFTER_NOVEMBER.date(), family_id=town.family_a, month=NOVEMBER).rows
    assert (row.invoice_id, row.credited_cents, row.left_cents) == (november, 350, total - 350)
    assert all(not r.number.startswith("AV-") for r in collection.unpaid(db, admin, AFTER_NOVEMBER.date()).rows)


def test_filters_and_how_late(town):
    db, admin = town.db, town.login(town.admin)
    later = date(2026, 12, 17)  # October's invoices were due on 5 December
    everything = collection.unpaid(db, admin, later)
    october_only = collection.unpaid(db, admin, later, month=date(2026, 10, 1))
    assert {r.month for r in october_only.rows} == {date(2026, 10, 1)} and len(october_only.rows) == 2
    b_only = collection.unpaid(db, admin, later, family_id=town.family_b)
    assert {r.family_id for r in b_only.rows} == {town.family_b} and len(b_only.rows) == 2
    assert [f.family_id for f in b_only.families] == [town.family_b]
    assert all(r.days_late(later) == 12 for r in october_only.rows)
    before_due = collection.unpaid(db, admin, date(2026, 12, 1), overdue_only=True)
    assert {r.month for r in before_due.rows} == {date(2026, 9, 1)}  # only September was due by then
    assert everything.overdue_cents == everything.left_cents
    for month in (date(2026, 10, 2), "2026-10-01"):
        with pytest.raises(InvalidInput, match="Mois illisible"):
            collection.unpaid(db, admin, later, month=month)
    for family in ("1", True, 1.0):
        with pytest.raises(InvalidInput, match="Famille introuvable"):
            collection.unpaid(db, admin, later, family_id=family)
    assert collection.unpaid(db, admin, later, family_id=999_999).rows == []
    assert collection.unpaid_months(db, admin) == [date(2026, 10, 1), date(2026, 9, 1)]


def test_the_export_has_the_documented_columns_and_is_audited(town):
    db, agent = town.db, town.login(town.agent)
    pay(db, october(town, town.family_a), 1000)
    body = collection.unpaid_csv(db, agent, DEMO_NOW, family_id=town.family_a)
    header, *lines = body.decode("utf-8-sig").splitlines()
    assert body.startswith("\ufeff".encode()) and header.split(";") == list(NAMES)
    (line,) = lines
    cells = dict(zip(NAMES, line.split(";"), strict=True))
    total = db.value("SELECT total_cents FROM invoices WHERE id = ?", [october(town, town.family_a)])
    assert cells["debiteur_nom"] == "Aubert" and cells["debiteur_prenom"] == "Anne"
    assert cells["periode"] == "2026-10" and cells["date_echeance"] == "05/12/2026"
    assert cells["montant_regle"] == "10,00" and cells["reste_a_payer"] == f"{(total - 1000) / 100:.2f}".replace(
        ".", ","
    )
    assert cells["objet"].endswith("– octobre 2026") and "Restauration scolaire" in cells["objet"]
    entry = db.dicts("SELECT * FROM audit_log WHERE action = 'unpaid.export'")
    assert len(entry) == 1 and entry[0]["user_id"] == agent.user_id


def test_a_family_never_sees_the_unpaid_list(town):
    db = town.db
    before = db.value("SELECT count(*) FROM audit_log")
    for who in (town.parent_a, town.parent_b, town.cook, town.mayor):
        actor = town.login(who)
        with pytest.raises(NotAllowed, match="réservés au personnel"):
            collection.unpaid(db, actor, DEMO_NOW.date())
        with pytest.raises(NotAllowed):
            collection.unpaid_csv(db, actor, DEMO_NOW, family_id=actor.family_id)
        with pytest.raises(NotAllowed):
            collection.unpaid_months(db, actor)
    assert db.value("SELECT count(*) FROM audit_log WHERE action = 'unpaid.export'") == 0
    assert db.value("SELECT count(*) FROM audit_log") >= before


def test_a_late_invoice_stays_on_the_list_until_paid(town):
    db, admin = town.db, town.login(town.admin)
    later = DEMO_NOW.date() + timedelta(days=60)
    rows = collection.unpaid(db, admin, later, overdue_only=True).rows
    assert rows and all(r.days_late(later) > 0 for r in rows)


def test_the_command_line_checks_each_setting_too(town):
    from lib.services import setup

    db = town.db
    before = settings_rows(db)
    for key, value, message in (
        ("town_siret", "21310297300013", "n'est pas un numéro SIRET valide"),
        ("collection_mode", "especes", "Mode de recouvrement"),
        ("regie_hours", "x" * 201, "200 caractères au plus"),
    ):
        with pytest.raises(InvalidInput, match=message):
            setup.set_setting(db, key, value, DEMO_NOW)
    assert settings_rows(db) == before
    setup.set_setting(db, "town_siret", "213 102 973 00012", DEMO_NOW)
    assert db.value("SELECT value FROM settings WHERE key = 'town_siret'") == "21310297300012"
