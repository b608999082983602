"""« Prélèvements » through AppTest on the demo town: the administrator sets the creditor up, records
a mandate (a wrong IBAN refused in French, nothing written), generates the month's file and enters a
reject; the family sees its mandate masked on « Mon dossier » and « Prélèvement le … » instead of
« Payer » on « Mes factures »; an agent does not have the page."""

from datetime import date

from lib.domain.actor import Actor
from lib.domain.clock import to_utc_naive
from lib.domain.roles import Role
from lib.services import sepa
from lib.store import invoices as invoice_store
from tests.conftest import DEMO_NOW
from tests.helpers import app_test, texts, unpaid_id

PAGE = "pages/admin_prelevements.py"
ICS = "FR72ZZZ123456"
IBAN = "FR1420041010050500013M02606"


def admin_of(db) -> Actor:
    user_id = db.value("SELECT id FROM users WHERE email = 'admin@demo.fr'")
    return Actor(user_id=user_id, email="admin@demo.fr", role=Role.ADMIN, display_name="Admin")


def family_of_parent(db) -> int:
    return db.value("SELECT family_id FROM users WHERE email = 'parent@demo.fr'")


def configure(db) -> None:
    sepa.save_settings(
        db,
        admin_of(db),
        name="Mairie de Démo",
        creditor_id=ICS,
        iban="FR7630006000011234567890189",
        bic="",
        collection_day=5,
        notice_days=14,
        now=DEMO_NOW,
    )


def counts(db) -> tuple:
    return tuple(db.value(f"SELECT count(*) FROM {t}") for t in ("sepa_mandates", "sepa_runs", "settings"))


def test_the_administrator_sets_the_creditor_up_through_the_form(demo_db):
    demo_db.write(lambda cur: cur.execute("DELETE FROM settings WHERE key LIKE 'sepa_%'"))  # a town starting
    at = app_test(PAGE, demo_db, "admin@demo.fr").run()
    assert not at.exception, at.exception
    assert "Renseignez d'abord les réglages du créancier" in texts(at)
    at.text_input(key="sepa_cr_name").set_value("Mairie de Démo")
    at.text_input(key="sepa_cr_ics").set_value("FR12ZZZ123456")
    at.text_input(key="sepa_cr_iban").set_value("FR7630006000011234567890189")
    before = counts(demo_db)
    at.button(key="FormSubmitter:sepa_settings_form-Enregistrer les réglages").click().run()
    assert not at.exception, at.exception
    assert "clé de contrôle" in at.error[0].value
    assert counts(demo_db) == before
    at.text_input(key="sepa_cr_ics").set_value(ICS)
    at.button(key="FormSubmitter:sepa_settings_form-Enregistrer les réglages").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Réglages du prélèvement enregistrés."]
    assert sepa.creditor(demo_db).creditor_id == ICS


def test_a_mandate_is_recorded_and_a_wrong_iban_refused_with_nothing_written(demo_db):
    family_id = family_of_parent(demo_db)
    at = app_test(PAGE, demo_db, "admin@demo.fr").run()
    at.selectbox(key="sepa_family").set_value(family_id).run()
    at.text_input(key="sepa_debtor").set_value("Camille Martin")
    at.text_input(key="sepa_iban").set_value("FR14 2004 1010 0505 0001 3M02 607")
    before = counts(demo_db)
    at.button(key="FormSubmitter:sepa_mandate_form-Enregistrer le mandat").click().run()
    assert not at.exception, at.exception
    assert at.error[0].value.startswith("IBAN invalide")
    assert counts(demo_db) == before
    at = app_test(PAGE, demo_db, "admin@demo.fr").run()  # a fresh visit: the form as a person fills it
    at.selectbox(key="sepa_family").set_value(family_id).run()
    at.text_input(key="sepa_debtor").set_value("Camille Martin")
    at.text_input(key="sepa_iban").set_value("FR14 2004 1010 0505 0001 3M02 606")
    at.button(key="FormSubmitter:sepa_mandate_form-Enregistrer le mandat").click().run()
    assert not at.exception, at.exception
    assert at.success, ([e.value for e in at.error], [w.value for w in at.warning])
    [rum] = demo_db.rows("SELECT rum FROM sepa_mandates WHERE family_id = ?", [family_id])[0]
    assert f"Mandat {rum} enregistré" in at.success[0].value
    assert rum in at.dataframe[0].value["RUM"].tolist()


def test_the_month_is_generated_downloaded_and_a_reject_entered(demo_db):
    configure(demo_db)
    family_id = family_of_parent(demo_db)
    guardian = demo_db.value("SELECT payer_guardian_id FROM invoices WHERE id = ?", [unpaid_id(demo_db)])
    sepa.record_mandate(
        demo_db,
        admin_of(demo_db),
        family_id=family_id,
        guardian_id=guardian,
        signed_on=date(2026, 9, 1),
        debtor_name="Camille Martin",
        iban=IBAN,
        bic="",
        now=DEMO_NOW,
    )
    month = demo_db.value("SELECT period_month FROM invoices WHERE id = ?", [unpaid_id(demo_db)])
    at = app_test(PAGE, demo_db, "admin@demo.fr").run()
    at.selectbox(key="sepa_month").set_value(month).run()
    assert not at.exception, at.exception
    assert "prélevées le **mardi 5 janvier 2027**" in texts(at)
    at.checkbox(key="sepa_sure").check().run()
    at.button(key="sepa_generate").click().run()
    assert not at.exception, at.exception
    assert "généré" in at.success[0].value
    assert demo_db.value("SELECT count(*) FROM sepa_runs") == 1
    assert demo_db.value("SELECT count(*) FROM outbox WHERE kind = 'direct_debit_notice'") >= 1

    again = app_test(PAGE, demo_db, "admin@demo.fr").run()
    assert not again.exception, again.exception
    again.selectbox(key="sepa_reject_code").set_value("AM04")
    again.button(key="FormSubmitter:sepa_reject_form-Enregistrer le rejet").click().run()
    assert not again.exception, again.exception
    assert "AM04 – Provision insuffisante" in again.success[0].value
    assert demo_db.value("SELECT count(*) FROM sepa_rejects") == 1


def test_the_administrator_is_told_which_invoice_is_left_out_while_it_is_paid_online(demo_db):
    configure(demo_db)
    invoice_id = unpaid_id(demo_db)
    guardian, number, month = demo_db.row(
        "SELECT payer_guardian_id, number, period_month FROM invoices WHERE id = ?", [invoice_id]
    )
    sepa.record_mandate(
        demo_db,
        admin_of(demo_db),
        family_id=family_of_parent(demo_db),
        guardian_id=guardian,
        signed_on=date(2026, 9, 1),
        debtor_name="Camille Martin",
        iban=IBAN,
        bic="",
        now=DEMO_NOW,
    )
    started_at = to_utc_naive(DEMO_NOW)
    attempt = {
        "invoice_id": invoice_id,
        "family_id": family_of_parent(demo_db),
        "provider": "payfip_ws",
        "transaction_ref": "idop-in-progress",
        "order_ref": number,
        "idempotency_key": "d" * 24,
        "amount_cents": 100,
        "state": "pending",
        "created_at": started_at,
        "updated_at": started_at,
        "form_fields": "{}",
    }
    demo_db.write(lambda cur: invoice_store.insert_transaction(cur, attempt))
    at = app_test(PAGE, demo_db, "admin@demo.fr").run()
    at.selectbox(key="sepa_month").set_value(month).run()
    assert not at.exception, at.exception
    assert f"{number} n'est pas prélevée : paiement en ligne en cours." in [w.value for w in at.warning]


def test_the_family_sees_its_mandate_masked_and_the_debit_date_instead_of_payer(demo_db):
    configure(demo_db)
    invoice = unpaid_id(demo_db)
    guardian = demo_db.value("SELECT payer_guardian_id FROM invoices WHERE id = ?", [invoice])
    made = sepa.record_mandate(
        demo_db,
        admin_of(demo_db),
        family_id=family_of_parent(demo_db),
        guardian_id=guardian,
        signed_on=date(2026, 9, 1),
        debtor_name="Camille Martin",
        iban=IBAN,
        bic="",
        now=DEMO_NOW,
    )
    month = demo_db.value("SELECT period_month FROM invoices WHERE id = ?", [invoice])
    sepa.generate_run(demo_db, admin_of(demo_db), month, DEMO_NOW)
    folder = app_test("pages/mon_dossier.py", demo_db, "parent@demo.fr").run()
    assert not folder.exception, folder.exception
    shown = texts(folder)
    assert f"**Mandat SEPA {made.rum}** (en cours)" in shown and "FR14 •••• •••• 2606" in shown
    assert IBAN not in shown
    bills = app_test("pages/mes_factures.py", demo_db, "parent@demo.fr")
    bills.session_state["invoices_selected"] = invoice
    bills.run()
    assert not bills.exception, bills.exception
    assert any(i.value.startswith("Prélèvement le mardi 5 janvier 2027") for i in bills.info)
    assert not [b for b in bills.button if b.key == "invoices_pay"]


def test_an_agent_does_not_have_the_page(demo_db):
    at = app_test(PAGE, demo_db, "agent@demo.fr").run()
    assert "Prélèvements" not in [t.value for t in at.title]


def test_after_a_reject_the_family_reads_the_reason_and_may_pay_again(demo_db):
    configure(demo_db)
    invoice = unpaid_id(demo_db)
    admin = admin_of(demo_db)
    sepa.record_mandate(
        demo_db,
        admin,
        family_id=family_of_parent(demo_db),
        guardian_id=demo_db.value("SELECT payer_guardian_id FROM invoices WHERE id = ?", [invoice]),
        signed_on=date(2026, 9, 1),
        debtor_name="Camille Martin",
        iban=IBAN,
        bic="",
        now=DEMO_NOW,
    )
    sepa.generate_run(
        demo_db, admin, demo_db.value("SELECT period_month FROM invoices WHERE id = ?", [invoice]), DEMO_NOW
    )
    number = demo_db.value("SELECT number FROM invoices WHERE id = ?", [invoice])
    [debit] = [d for d in sepa.debits(demo_db, admin) if d.invoice_number == number]
    sepa.record_reject(demo_db, admin, debit.id, "AC04", DEMO_NOW)
    bills = app_test("pages/mes_factures.py", demo_db, "parent@demo.fr")
    bills.session_state["invoices_selected"] = invoice
    bills.run()
    assert not bills.exception, bills.exception
    assert any("rejeté par la banque : AC04 – Compte clôturé" in w.value for w in bills.warning)
    assert [b for b in bills.button if b.key == "invoices_pay"]
