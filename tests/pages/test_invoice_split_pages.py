"""« Mes factures » and « Facturation » for a family with two guardians (issue 15): the demo family
gets a guardian 2 with his own account through lib.services.families."""

from lib.domain.families import GuardianInput
from lib.services import auth, families, reservations
from tests.conftest import DEMO_NOW, login
from tests.helpers import app_test, texts

SECOND = GuardianInput("Marc", "Roux", "marc.roux@demo.fr", None, "8 rue des Lilas")


def second_guardian(db, billing: str) -> None:
    """The demo family (id 1) with a guardian 2 whose account is marc.roux@demo.fr (password "demo"),
    billed `billing`."""
    admin = login(db, "admin@demo.fr")
    families.save_guardian(db, admin, 1, 2, SECOND, DEMO_NOW)
    families.update_family(db, admin, 1, db.value("SELECT name FROM families WHERE id = 1"), None, billing, DEMO_NOW)
    user_id = db.value("SELECT max(id) + 1 FROM users")
    password_hash = auth.hash_password("demo")

    def work(cur):
        cur.execute(
            "INSERT INTO users (id, email, password_hash, role, family_id, display_name, created_at) "
            "VALUES (?, ?, ?, 'famille', 1, 'Marc Roux', '2026-09-01 08:00')",
            [user_id, SECOND.email, password_hash],
        )
        cur.execute("UPDATE guardians SET user_id = ? WHERE family_id = 1 AND rank = 2", [user_id])

    db.write(work)


def test_guardian_2_sees_and_may_pay_the_family_s_invoices_addressed_to_guardian_1(demo_db):
    second_guardian(demo_db, "guardian1")
    at = app_test("pages/mes_factures.py", demo_db, SECOND.email).run()
    assert not at.exception, at.exception
    assert list(at.dataframe[0].value["N°"]) == ["F-2026-000267", "F-2026-000001"]
    payer = demo_db.value("SELECT first_name || ' ' || last_name FROM guardians WHERE family_id = 1 AND rank = 1")
    assert f"Débiteur : {payer}" in texts(at)
    assert at.button(key="invoices_pay").label == "Payer 83,50\u00a0€"


def test_in_shared_custody_only_the_payer_may_pay_his_share(demo_db):
    second_guardian(demo_db, "split")  # the published months were addressed to guardian 1
    at = app_test("pages/mes_factures.py", demo_db, "parent@demo.fr").run()
    assert at.button(key="invoices_pay").label == "Payer 83,50\u00a0€"


def test_a_split_bill_s_guardian_sees_only_the_invoices_addressed_to_him(demo_db):
    second_guardian(demo_db, "split")  # the published months were addressed to guardian 1
    at = app_test("pages/mes_factures.py", demo_db, SECOND.email).run()
    assert not at.exception, at.exception
    assert "Aucune facture émise pour le moment." in texts(at) and "F-2026-000267" not in texts(at)
    at = app_test("pages/mes_factures.py", demo_db, "parent@demo.fr").run()
    assert list(at.dataframe[0].value["N°"]) == ["F-2026-000267", "F-2026-000001"]


def test_the_billing_page_names_each_invoice_s_payer(demo_db):
    at = app_test("pages/admin_facturation.py", demo_db, "admin@demo.fr").run()
    assert not at.exception, at.exception
    issued = next(d.value for d in at.dataframe if "Adressé à" in d.value.columns)
    payer = demo_db.value("SELECT first_name || ' ' || last_name FROM guardians WHERE family_id = 1 AND rank = 1")
    number = demo_db.value("SELECT number FROM invoices WHERE family_id = 1 AND period_month = '2026-10-01'")
    assert issued.loc[issued["N°"] == number, "Adressé à"].tolist() == [payer]


def test_the_draft_names_each_document_s_payer(demo_db):
    """A late cancellation in October: the draft's credit note for the demo family says whom it goes to."""
    agent = login(demo_db, "agent@demo.fr")
    child, service, day = demo_db.row(
        "SELECT b.child_id, b.service_id, min(b.day) FROM bookings b JOIN children c ON c.id = b.child_id "
        "WHERE c.family_id = 1 AND b.state = 'booked' AND b.day BETWEEN '2026-10-01' AND '2026-10-31' "
        "GROUP BY b.child_id, b.service_id ORDER BY 1, 2, 3 LIMIT 1"
    )
    year = demo_db.value("SELECT max(id) FROM school_years")
    context = reservations.booking_context(demo_db, agent, child, year)
    reservations.set_day(demo_db, agent, context, service, day, False, DEMO_NOW, late=True, reason="absence")
    at = app_test("pages/admin_facturation.py", demo_db, "admin@demo.fr").run()
    assert not at.exception, at.exception
    draft = next(d.value for d in at.dataframe if "Lignes" in d.value.columns)
    payer = demo_db.value("SELECT first_name || ' ' || last_name FROM guardians WHERE family_id = 1 AND rank = 1")
    family = demo_db.value("SELECT name FROM families WHERE id = 1")
    assert draft[["Famille", "Adressé à", "Type"]].values.tolist() == [[family, payer, "Avoir"]]
