"""SEPA direct debit on the small town: settings, mandates, the monthly pain.008 run, the
pre-notification, rejects typed or imported from the bank's pain.002, and the online payment block."""

import os
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta

import pytest
import sepaxml
import xmlschema

from lib.domain import fr
from lib.domain.cash_desk import CashPayment
from lib.domain.clock import PARIS
from lib.domain.errors import InvalidInput, NotAllowed, NotFound
from lib.domain.families import BillingMode, GuardianInput
from lib.domain.invoicing import PaymentRefused
from lib.domain.letters import MailKind
from lib.services import cash_desk, families, invoicing, payments, reminders, sepa
from tests.conftest import DEMO_NOW
from tests.helpers import PORT, sorted_rows, town_invoice

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
ICS = "FR72ZZZ123456"
TOWN_IBAN = "FR7630006000011234567890189"
IBAN_A = "FR1420041010050500013M02606"
IBAN_B = "FR7630001007941234567890185"
KEY = "k" * 24
COLLECTION_DAY = datetime(2027, 1, 5, 8, 0, tzinfo=PARIS)  # the daily job's run that day
COLLECTION_EVE = datetime(2027, 1, 4, 8, 0, tzinfo=PARIS)
TABLES = (
    "settings",
    "sepa_mandates",
    "sepa_runs",
    "sepa_debits",
    "sepa_collections",
    "sepa_rejects",
    "payments",
    "outbox",
)


def snapshot(db):
    return {table: sorted_rows(db, f"SELECT * FROM {table}") for table in TABLES}


def refusals(db, action):
    return db.value("SELECT count(*) FROM audit_log WHERE action = ?", [action])


def guardian(db, family_id):
    return db.value("SELECT id FROM guardians WHERE family_id = ? AND rank = 1", [family_id])


@pytest.fixture
def admin(town):
    return town.login(town.admin)


@pytest.fixture
def configured(town, admin):
    sepa.save_settings(
        town.db,
        admin,
        name="Mairie de la Petite Ville",
        creditor_id=ICS,
        iban=TOWN_IBAN,
        bic="AGRIFRPP",
        collection_day=5,
        notice_days=14,
        now=DEMO_NOW,
    )
    return town


def sign(town, admin, family_id, iban=IBAN_A, **change):
    typed = {
        "family_id": family_id,
        "guardian_id": guardian(town.db, family_id),
        "signed_on": date(2026, 9, 1),
        "debtor_name": "Anne Aubert" if family_id == town.family_a else "Bruno Besson",
        "iban": iban,
        "bic": "",
    }
    typed.update(change)
    return sepa.record_mandate(town.db, admin, now=DEMO_NOW, **typed)


def parse(file: bytes) -> ET.Element:
    return ET.fromstring(file)


def transactions(root):
    """(end-to-end id, amount, RUM, sequence type) of each transaction of a pain.008."""
    found = []
    for block in root.iterfind(".//p:PmtInf", NS):
        sequence = block.findtext("p:PmtTpInf/p:SeqTp", namespaces=NS)
        for tx in block.iterfind("p:DrctDbtTxInf", NS):
            found.append(
                (
                    tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS),
                    tx.findtext("p:InstdAmt", namespaces=NS),
                    tx.findtext("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", namespaces=NS),
                    sequence,
                )
            )
    return sorted(found)


def pain_002(*rejects: tuple[str, str]) -> bytes:
    """A bank's status report (pain.002.001.03) rejecting `(end-to-end id, reason code)` pairs, and
    accepting one more transaction, as French banks return it."""
    lines = "".join(
        f"<TxInfAndSts><StsId>S{i}</StsId><OrgnlEndToEndId>{e2e}</OrgnlEndToEndId><TxSts>RJCT</TxSts>"
        f"<StsRsnInf><Rsn><Cd>{code}</Cd></Rsn></StsRsnInf></TxInfAndSts>"
        for i, (e2e, code) in enumerate(rejects)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>'
        "<GrpHdr><MsgId>BANQUE-20270106-1</MsgId><CreDtTm>2027-01-06T08:00:00</CreDtTm></GrpHdr>"
        "<OrgnlGrpInfAndSts><OrgnlMsgId>PORTAIL-202610-000001</OrgnlMsgId>"
        "<OrgnlMsgNmId>pain.008.001.02</OrgnlMsgNmId><GrpSts>PART</GrpSts></OrgnlGrpInfAndSts>"
        "<OrgnlPmtInfAndSts><OrgnlPmtInfId>LOT-1</OrgnlPmtInfId>" + lines + "<TxInfAndSts><StsId>OK</StsId>"
        "<OrgnlEndToEndId>R9-ACCEPTED</OrgnlEndToEndId><TxSts>ACCP</TxSts></TxInfAndSts>"
        "</OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>"
    ).encode()


# --- settings ------------------------------------------------------------------------------------


def test_the_creditor_settings_are_checked_stored_and_journaled(configured, admin):
    db = configured.db
    stored = sepa.settings(db, admin)
    assert (stored.creditor_id, stored.iban, stored.bic, stored.collection_day, stored.notice_days) == (
        ICS,
        TOWN_IBAN,
        "AGRIFRPP",
        5,
        14,
    )
    assert db.value("SELECT count(*) FROM audit_log WHERE action = 'setting.update' AND entity_id LIKE 'sepa_%'") == 6


@pytest.mark.parametrize(
    "change, words",
    [
        ({"creditor_id": "FR12ZZZ123456"}, "clé de contrôle"),
        ({"creditor_id": "123456"}, "FR72ZZZ123456"),
        ({"iban": "FR7630006000011234567890188"}, "IBAN invalide"),
        ({"bic": "BNPAXXPP"}, "BIC invalide"),
        ({"collection_day": 31}, "entre 1 et 28"),
        ({"notice_days": 1}, "pré-notification"),
        ({"name": "X"}, "Nom du créancier"),
    ],
)
def test_bad_creditor_settings_are_refused_in_french_with_nothing_written(town, admin, change, words):
    typed = {
        "name": "Mairie",
        "creditor_id": ICS,
        "iban": TOWN_IBAN,
        "bic": "",
        "collection_day": 5,
        "notice_days": 14,
    }
    typed.update(change)
    before = snapshot(town.db)
    with pytest.raises(InvalidInput, match=words):
        sepa.save_settings(town.db, admin, now=DEMO_NOW, **typed)
    assert snapshot(town.db) == before
    assert refusals(town.db, "sepa.settings_refused") == 1


def test_only_the_administrator_sets_up_direct_debit(town):
    agent = town.login(town.agent)
    with pytest.raises(NotAllowed):
        sepa.settings(town.db, agent)
    with pytest.raises(NotAllowed):
        sepa.generate_run(town.db, agent, date(2026, 10, 1), DEMO_NOW)
    with pytest.raises(NotAllowed):
        sepa.mandates(town.db, town.login(town.parent_a))


# --- mandates ------------------------------------------------------------------------------------


def test_a_mandate_gets_our_rum_and_the_bank_of_its_iban(town, admin):
    mandate = sign(town, admin, town.family_a, "FR14 2004 1010 0505 0001 3M02 606")
    assert mandate.rum == f"PF{town.family_a:06d}M{mandate.id:07d}"
    assert (mandate.iban, mandate.bic) == (IBAN_A, "PSSTFRPP")
    assert mandate.in_force(DEMO_NOW.date())
    entry = town.db.row("SELECT action, entity_id, after FROM audit_log WHERE action = 'sepa.mandate'")
    assert entry[1] == str(town.family_a) and mandate.rum in entry[2] and IBAN_A not in entry[2]


@pytest.mark.parametrize(
    "change, error, words",
    [
        ({"iban": "FR1420041010050500013M02607"}, InvalidInput, "IBAN invalide"),
        ({"iban": "FR14 2004"}, InvalidInput, "IBAN invalide"),
        ({"bic": "DEUTDEFF"}, InvalidInput, "pays de l'IBAN"),
        ({"signed_on": date(2026, 12, 1)}, InvalidInput, "futur"),
        ({"signed_on": "2026-09-01"}, InvalidInput, "signature"),
        ({"debtor_name": " "}, InvalidInput, "Nom du débiteur"),
        ({"notice_days": 90}, InvalidInput, "pré-notification"),
        ({"guardian_id": 2}, NotFound, "introuvable"),  # family B's guardian on family A's file
        ({"guardian_id": "1"}, NotFound, "introuvable"),
    ],
)
def test_a_bad_mandate_is_refused_in_french_with_nothing_written_and_journaled(town, admin, change, error, words):
    before = snapshot(town.db)
    with pytest.raises(error, match=words):
        sign(town, admin, town.family_a, **change)
    assert snapshot(town.db) == before
    assert refusals(town.db, "sepa.mandate_refused") == 1


def test_one_mandate_at_a_time_and_a_revoked_one_stays_in_the_history(town, admin):
    first = sign(town, admin, town.family_a, IBAN_A)
    with pytest.raises(InvalidInput, match="déjà un mandat en cours"):
        sign(town, admin, town.family_a, IBAN_B)
    ended = sepa.revoke_mandate(town.db, admin, first.id, date(2026, 11, 30), DEMO_NOW)
    assert ended.ends_on == date(2026, 11, 30)
    assert first.revocable and first.state == "en cours"
    assert not ended.revocable and ended.state == "fin le 30/11/2026"
    with pytest.raises(InvalidInput, match="déjà révoqué"):
        sepa.revoke_mandate(town.db, admin, first.id, date(2026, 12, 30), DEMO_NOW)
    with pytest.raises(NotFound):
        sepa.revoke_mandate(town.db, admin, 999, date(2026, 12, 30), DEMO_NOW)
    second = sign(town, admin, town.family_a, IBAN_B)
    assert [m.rum for m in sepa.mandates(town.db, admin, town.family_a)] == [second.rum, first.rum]


def test_a_family_sees_its_own_mandate_masked_and_never_another_familys(town, admin):
    sign(town, admin, town.family_a, IBAN_A)
    seen = sepa.family_mandates(town.db, town.login(town.parent_a))
    assert [(m.iban, m.signed_on) for m in seen] == [("FR14 •••• •••• 2606", date(2026, 9, 1))]
    assert sepa.family_mandates(town.db, town.login(town.parent_b)) == []
    with pytest.raises(NotAllowed):
        sepa.family_mandates(town.db, admin)


def test_in_shared_custody_a_guardian_sees_only_his_own_mandate(town, admin):
    second = families.save_guardian(
        town.db,
        admin,
        town.family_a,
        2,
        GuardianInput("Marc", "Roux", "marc.roux@petite-ville.test", None, ""),
        DEMO_NOW,
    )
    sign(town, admin, town.family_a, guardian_id=second, debtor_name="Marc Roux")
    parent = town.login(town.parent_a)
    assert [m.guardian for m in sepa.family_mandates(town.db, parent)] == ["Marc Roux"]  # one bill: one family
    families.update_family(town.db, admin, town.family_a, "Famille Aubert", None, BillingMode.SPLIT, DEMO_NOW)
    assert sepa.family_mandates(town.db, parent) == []
    assert [m.guardian for m in sepa.mandates(town.db, admin, town.family_a)] == ["Marc Roux"]


# --- the run -------------------------------------------------------------------------------------


def test_the_run_makes_a_valid_pain_008_with_frst_then_rcur(configured, admin):
    db = configured.db
    sign(configured, admin, configured.family_a, IBAN_A)
    sign(configured, admin, configured.family_b, IBAN_B, bic="BDFEFRPP")
    september_b = town_invoice(configured, configured.family_b, 9)
    october_a = town_invoice(configured, configured.family_a, 10)
    october_b = town_invoice(configured, configured.family_b, 10)
    preview = sepa.preview_run(db, admin, date(2026, 9, 1), DEMO_NOW)
    assert preview.collection_date == date(2027, 1, 5)  # the 5th at least 14 days after 27 November
    assert [(line.invoice_number, line.amount_cents) for line in preview.lines] == [
        (september_b.number, september_b.total_cents)
    ]  # family A paid September by cheque
    september = sepa.generate_run(db, admin, date(2026, 9, 1), DEMO_NOW)
    october = sepa.generate_run(db, admin, date(2026, 10, 1), DEMO_NOW)
    name, file = sepa.run_file(db, admin, october.id)
    assert name == f"{october.message_id}.xml" and sepa.rules.sha256(file) == october.sha256
    xmlschema.XMLSchema(os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.008.001.02.xsd")).validate(
        file.decode()
    )
    root = parse(file)
    assert root.findtext(".//p:GrpHdr/p:MsgId", namespaces=NS) == october.message_id
    assert root.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=NS) == f"{october.total_cents / 100:.2f}"
    assert root.findtext(".//p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", namespaces=NS) == ICS
    assert root.findtext(".//p:ReqdColltnDt", namespaces=NS) == "2027-01-05"
    rum_a, rum_b = (m.rum for m in sorted(sepa.mandates(db, admin), key=lambda m: m.family_id))
    assert transactions(root) == sorted(
        [
            (f"R{october.id}-F2026000003", f"{october_a.total_cents / 100:.2f}", rum_a, "FRST"),
            (f"R{october.id}-F2026000004", f"{october_b.total_cents / 100:.2f}", rum_b, "RCUR"),
        ]
    )
    assert [r[3] for r in transactions(parse(sepa.run_file(db, admin, september.id)[1]))] == ["FRST"]

    def paid():
        return db.rows(
            "SELECT invoice_id, amount_cents, paid_at::DATE, method FROM payments WHERE method = 'prelevement' "
            "ORDER BY 1"
        )

    assert paid() == []  # owed until the bank pays
    assert sepa.collect_due(db, COLLECTION_EVE) == 0
    assert {d.state for d in sepa.debits(db, admin)} == {"à prélever"}
    assert sepa.collect_due(db, COLLECTION_DAY) == 3
    assert {d.state for d in sepa.debits(db, admin)} == {"prélevé"}
    assert sepa.collect_due(db, COLLECTION_DAY + timedelta(days=1)) == 0  # collected once
    assert paid() == [
        (september_b.id, september_b.total_cents, date(2027, 1, 5), "prelevement"),
        (october_a.id, october_a.total_cents, date(2027, 1, 5), "prelevement"),
        (october_b.id, october_b.total_cents, date(2027, 1, 5), "prelevement"),
    ]
    stored = db.row("SELECT period_month, sha256, message_id, total_cents FROM sepa_runs WHERE id = ?", [october.id])
    assert stored == (
        date(2026, 10, 1),
        october.sha256,
        october.message_id,
        october_a.total_cents + october_b.total_cents,
    )


def test_running_a_month_again_debits_nobody_twice(configured, admin):
    db = configured.db
    sign(configured, admin, configured.family_a, IBAN_A)
    sepa.generate_run(db, admin, date(2026, 10, 1), DEMO_NOW)
    before = snapshot(db)
    with pytest.raises(InvalidInput, match="Aucune facture à prélever pour octobre 2026"):
        sepa.generate_run(db, admin, date(2026, 10, 1), DEMO_NOW + timedelta(days=1))
    assert snapshot(db) == before
    assert refusals(db, "sepa.run_refused") == 1


def test_no_run_without_the_creditor_settings_nor_for_a_bad_month(town, admin):
    sign(town, admin, town.family_a, IBAN_A)
    with pytest.raises(InvalidInput, match="Réglages"):
        sepa.generate_run(town.db, admin, date(2026, 10, 1), DEMO_NOW)
    with pytest.raises(InvalidInput, match="Mois"):
        sepa.generate_run(town.db, admin, date(2026, 10, 2), DEMO_NOW)
    assert town.db.value("SELECT count(*) FROM sepa_runs") == 0


def test_a_mandate_with_a_longer_notice_delays_the_collection(configured, admin):
    sign(configured, admin, configured.family_a, IBAN_A, notice_days=30)
    run = sepa.generate_run(configured.db, admin, date(2026, 10, 1), DEMO_NOW)
    assert run.collection_date == date(2027, 1, 5)  # 27 Nov + 30 = 27 Dec: the next 5th
    early = sepa.preview_run(configured.db, admin, date(2026, 10, 1), DEMO_NOW - timedelta(days=20))
    assert early.lines == []  # nothing left to collect for October


def test_the_family_gets_its_pre_notification_with_amount_date_rum_and_ics(configured, admin):
    db = configured.db
    mandate = sign(configured, admin, configured.family_a, IBAN_A)
    october = town_invoice(configured, configured.family_a, 10)
    sepa.generate_run(db, admin, date(2026, 10, 1), DEMO_NOW)
    notices = db.rows(
        "SELECT to_address, family_id, body_text FROM outbox WHERE kind = ?", [MailKind.DIRECT_DEBIT_NOTICE.value]
    )
    assert [(n[0], n[1]) for n in notices] == [(october.email, configured.family_a)]
    body = notices[0][2]
    for words in (
        fr.euros(october.total_cents),
        "mardi 5 janvier 2027",
        mandate.rum,
        ICS,
        "FR14 •••• •••• 2606",
        october.number,
    ):
        assert words in body
    assert IBAN_A not in body


def test_an_invoice_under_direct_debit_is_not_paid_online(configured, admin):
    db = configured.db
    sign(configured, admin, configured.family_a, IBAN_A)
    october = town_invoice(configured, configured.family_a, 10)
    sepa.generate_run(db, admin, date(2026, 10, 1), DEMO_NOW)
    assert sepa.direct_debit_date(db, october.id) == date(2027, 1, 5)
    with pytest.raises(PaymentRefused, match="Cette facture sera prélevée le mardi 5 janvier 2027"):
        payments.start_payment(db, configured.login(configured.parent_a), october.id, KEY, PORT, DEMO_NOW)
    assert db.value("SELECT count(*) FROM payment_transactions") == 0
    detail = invoicing.invoice_detail(db, configured.login(configured.parent_a), october.id, DEMO_NOW)
    assert [way.title for way in detail.text.ways] == ["Prélèvement automatique"]  # the invoice's own words
    assert "Cette facture sera prélevée le mardi 5 janvier 2027" in detail.text.ways[0].text


def test_an_invoice_being_paid_online_is_left_out_of_the_run_and_the_administrator_told(configured, admin):
    db = configured.db
    parent = configured.login(configured.parent_a)
    sign(configured, admin, configured.family_a, IBAN_A)
    sign(configured, admin, configured.family_b, IBAN_B, bic="BDFEFRPP")
    october_a = town_invoice(configured, configured.family_a, 10)
    october_b = town_invoice(configured, configured.family_b, 10)
    payments.start_payment(db, parent, october_a.id, KEY, PORT, DEMO_NOW)
    preview = sepa.preview_run(db, admin, date(2026, 10, 1), DEMO_NOW)
    assert [line.invoice_number for line in preview.lines] == [october_b.number]
    assert preview.left_out == [sepa.LeftOut(october_a.number, "paiement en ligne en cours")]
    run = sepa.generate_run(db, admin, date(2026, 10, 1), DEMO_NOW)
    assert (run.debits, run.left_out) == (1, (sepa.LeftOut(october_a.number, "paiement en ligne en cours"),))
    assert sepa.direct_debit_date(db, october_a.id) is None
    # Once the attempt can no longer be paid, the next run collects the invoice; the family's
    # « Payer » link (the same key) no longer resumes the attempt: it would be paid twice.
    later = DEMO_NOW + payments.config(db).attempt_lifetime + timedelta(minutes=1)
    preview = sepa.preview_run(db, admin, date(2026, 10, 1), later)
    assert ([line.invoice_number for line in preview.lines], preview.left_out) == ([october_a.number], [])
    sepa.generate_run(db, admin, date(2026, 10, 1), later)
    with pytest.raises(PaymentRefused, match="Cette facture sera prélevée le"):
        payments.start_payment(db, parent, october_a.id, KEY, PORT, later)


def test_the_cash_desk_does_not_take_money_for_an_invoice_the_bank_will_debit(configured, admin):
    db = configured.db
    sign(configured, admin, configured.family_a, IBAN_A)
    october = town_invoice(configured, configured.family_a, 10)
    sepa.generate_run(db, admin, date(2026, 10, 1), DEMO_NOW)
    agent = configured.login(configured.agent)
    cash_desk.set_regisseur(db, admin, agent.user_id, True, DEMO_NOW)
    before = db.value("SELECT count(*) FROM payments")
    with pytest.raises(InvalidInput, match="sera prélevée le mardi 5 janvier 2027"):
        cash_desk.record_payment(db, agent, october.id, CashPayment("especes", "5"), "k" * 20, DEMO_NOW)
    assert db.value("SELECT count(*) FROM payments") == before
    assert db.value("SELECT count(*) FROM audit_log WHERE action = 'cashdesk.refused'") == 1


def test_an_invoices_debit_is_seen_by_its_family_and_the_staff_only(configured, admin):
    db = configured.db
    sign(configured, admin, configured.family_a, IBAN_A)
    october = town_invoice(configured, configured.family_a, 10)
    sepa.generate_run(db, admin, date(2026, 10, 1), DEMO_NOW)
    seen = sepa.invoice_debit(db, configured.login(configured.parent_a), october.id, DEMO_NOW)
    assert seen == sepa.InvoiceDebit(date(2027, 1, 5), None)
    assert sepa.invoice_debit(db, admin, october.id, DEMO_NOW) == seen
    assert sepa.invoice_debit(db, configured.login(configured.parent_b), october.id, DEMO_NOW) is None
    assert sepa.invoice_debit(db, configured.login(configured.parent_b), 999, DEMO_NOW) is None


# --- rejects -------------------------------------------------------------------------------------


def test_a_typed_reject_reopens_the_invoice_with_its_reason_once(configured, admin):
    db = configured.db
    sign(configured, admin, configured.family_a, IBAN_A)
    october = town_invoice(configured, configured.family_a, 10)
    sepa.generate_run(db, admin, date(2026, 10, 1), DEMO_NOW)
    sepa.collect_due(db, COLLECTION_DAY)
    [debit] = sepa.debits(db, admin)
    assert debit.rejectable
    done = sepa.record_reject(db, admin, debit.id, "am04", COLLECTION_DAY)
    assert done == f"{october.number} ({october.family}) : AM04 – Provision insuffisante"
    assert not sepa.debits(db, admin)[0].rejectable
    assert db.value("SELECT sum(amount_cents) FROM payments WHERE invoice_id = ?", [october.id]) == 0
    assert db.value("SELECT reason FROM payments WHERE amount_cents < 0") == (
        "Prélèvement rejeté : AM04 – Provision insuffisante"
    )
    assert sepa.direct_debit_date(db, october.id) is None
    assert sepa.debits(db, admin)[0].reject_reason == "AM04 – Provision insuffisante"
    letter = db.row("SELECT to_address, body_text FROM outbox WHERE kind = ?", [MailKind.DIRECT_DEBIT_REJECTED.value])
    assert letter[0] == october.email and "Provision insuffisante" in letter[1]
    before = snapshot(db)
    with pytest.raises(InvalidInput, match="déjà enregistré comme rejeté"):
        sepa.record_reject(db, admin, debit.id, "MD01", DEMO_NOW)
    with pytest.raises(NotFound, match="Prélèvement introuvable"):
        sepa.record_reject(db, admin, 999, "AM04", DEMO_NOW)
    with pytest.raises(InvalidInput, match="Motif de rejet inconnu"):
        sepa.record_reject(db, admin, debit.id, "ZZ99", DEMO_NOW)
    with pytest.raises(InvalidInput, match="Aucune facture à prélever"):  # a rejected debit is not presented again
        sepa.generate_run(db, admin, date(2026, 10, 1), DEMO_NOW)
    assert snapshot(db) == before
    assert refusals(db, "sepa.reject_refused") == 3


def test_a_reject_before_the_collection_date_leaves_nothing_to_collect_nor_undo(configured, admin):
    db = configured.db
    sign(configured, admin, configured.family_a, IBAN_A)
    october = town_invoice(configured, configured.family_a, 10)
    sepa.generate_run(db, admin, date(2026, 10, 1), DEMO_NOW)
    [debit] = sepa.debits(db, admin)
    sepa.record_reject(db, admin, debit.id, "MS02", DEMO_NOW)
    assert sepa.collect_due(db, COLLECTION_DAY) == 0
    assert db.value("SELECT count(*) FROM payments WHERE invoice_id = ?", [october.id]) == 0
    assert db.value("SELECT counter_payment_id FROM sepa_rejects") is None


def test_no_unpaid_reminder_for_an_invoice_the_bank_will_pay(configured, admin):
    db = configured.db
    sign(configured, admin, configured.family_a, IBAN_A)
    sepa.generate_run(db, admin, date(2026, 10, 1), DEMO_NOW)
    reminders.queue_due(db, COLLECTION_EVE)  # after every reminder step, before the collection
    reminded = db.rows("SELECT DISTINCT family_id FROM outbox WHERE kind = 'unpaid_reminder' ORDER BY 1")
    assert reminded == [(configured.family_b,)]


def test_after_a_rejected_first_debit_the_next_one_is_first_again(configured, admin):
    db = configured.db
    sign(configured, admin, configured.family_b, IBAN_B)
    sepa.generate_run(db, admin, date(2026, 9, 1), DEMO_NOW)
    [debit] = sepa.debits(db, admin)
    sepa.record_reject(db, admin, debit.id, "AC04", DEMO_NOW)
    october = sepa.generate_run(db, admin, date(2026, 10, 1), DEMO_NOW)
    assert [t[3] for t in transactions(parse(sepa.run_file(db, admin, october.id)[1]))] == ["FRST"]


@pytest.mark.parametrize(
    "data",
    [b"", b"not xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "texte", b"<Document/>"],
)
def test_an_unreadable_return_file_is_refused_with_nothing_written(configured, admin, data):
    before = snapshot(configured.db)
    with pytest.raises(InvalidInput):
        sepa.import_rejects(configured.db, admin, data, DEMO_NOW)
    assert snapshot(configured.db) == before
    assert refusals(configured.db, "sepa.import_refused") == 1


def test_a_direct_debit_run_end_to_end_from_mandate_to_online_payment_again(configured, admin):
    """Mandate → published invoice → run file → pre-notification in the outbox → collected on its
    date → the bank's return imported → invoice unpaid with its reason → the family may pay it online
    again."""
    db = configured.db
    parent = configured.login(configured.parent_a)
    mandate = sign(configured, admin, configured.family_a, IBAN_A)
    october = town_invoice(configured, configured.family_a, 10)
    run = sepa.generate_run(db, admin, date(2026, 10, 1), DEMO_NOW)
    [tx] = transactions(parse(sepa.run_file(db, admin, run.id)[1]))
    assert tx[2] == mandate.rum
    assert db.value("SELECT count(*) FROM outbox WHERE kind = 'direct_debit_notice'") == 1
    with pytest.raises(PaymentRefused, match="sera prélevée"):
        payments.start_payment(db, parent, october.id, KEY, PORT, DEMO_NOW)
    owed = next(r for r in payments_rows(db, parent) if r.id == october.id)
    assert owed.left_cents == october.total_cents  # owed until the collection date
    assert sepa.collect_due(db, COLLECTION_DAY) == 1
    assert next(r for r in payments_rows(db, parent) if r.id == october.id).left_cents == 0
    returned = pain_002((tx[0], "MD01"), ("R77-F2026000999", "AM04"))
    report = sepa.import_rejects(db, admin, returned, DEMO_NOW + timedelta(days=40))
    assert report.recorded == [f"{october.number} ({october.family}) : MD01 – Pas de mandat"]
    assert report.refused == ["R77-F2026000999 : prélèvement inconnu du portail."]
    again = sepa.import_rejects(db, admin, returned, DEMO_NOW + timedelta(days=41))
    assert again.recorded == [] and "déjà enregistré comme rejeté" in again.refused[0]
    assert db.value("SELECT count(*) FROM sepa_rejects") == 1
    row = next(r for r in payments_rows(db, parent) if r.id == october.id)
    assert row.left_cents == october.total_cents
    assert sepa.invoice_debit(db, parent, october.id, DEMO_NOW).rejected == "MD01 – Pas de mandat"
    started = payments.start_payment(db, parent, october.id, KEY, PORT, DEMO_NOW + timedelta(days=41))
    assert started.transaction_ref


def payments_rows(db, parent):
    return invoicing.family_invoices(db, parent, DEMO_NOW)
