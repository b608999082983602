"""« Mes factures » and « Facturation » through AppTest (a row click is injected as the
selected invoice, the session state the table's selection sets)."""

from tests.helpers import app_test, texts


def invoice_id(db, number):
    return db.value("SELECT id FROM invoices WHERE number = ?", [number])


def test_the_table_lists_invoices_with_dots_and_words(demo_db):
    at = app_test("pages/mes_factures.py", demo_db, "parent@demo.fr").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert list(table["N°"]) == ["F-2026-000267", "F-2026-000001"]
    assert list(table["État"]) == ["🔴 Non soldée", "🟢 Soldée"]
    assert list(table["Reste à payer"]) == ["83,50\u00a0€", "0,00\u00a0€"]
    content = texts(at)
    assert "Légende" in content and "🔴 Non soldée" in content and "🟢 Soldée" in content
    assert "Droit de payer en ligne accordé" in content
    # The unpaid invoice is shown first, with its lines per child and service.
    assert "Facture F-2026-000267" in content and "Léa — Restauration scolaire (octobre 2026)" in content
    assert at.button(key="invoices_pay").label == "Payer 83,50\u00a0€"


def test_clicking_a_paid_row_shows_its_detail_and_payments_and_no_pay_button(demo_db):
    at = app_test("pages/mes_factures.py", demo_db, "parent@demo.fr")
    at.session_state["invoices_selected"] = invoice_id(demo_db, "F-2026-000001")
    at.run()
    content = texts(at)
    assert "Facture F-2026-000001" in content and "Paiements reçus" in content and "paiement en ligne" in content
    assert not [b for b in at.button if b.key == "invoices_pay"]


def test_payer_warns_that_it_cannot_be_undone_then_links_to_the_bank(demo_db):
    at = app_test("pages/mes_factures.py", demo_db, "parent@demo.fr").run()
    at.button(key="invoices_pay").click().run()
    assert "il ne sera pas possible de revenir en arrière" in at.warning[0].value
    assert "référence de paiement **F2026000267**" in at.warning[0].value  # what the public accountant matches
    link = next(m.value for m in at.markdown if "/paiement/depart?" in m.value)
    assert f"facture={invoice_id(demo_db, 'F-2026-000267')}" in link and "Confirmer et payer 83,50" in link
    at.button(key="invoices_pay_cancel").click().run()
    assert not [m for m in at.markdown if "/paiement/depart?" in m.value]


def test_a_family_without_the_right_asks_for_it(demo_db):
    at = app_test("pages/mes_factures.py", demo_db, "famille002@demo.fr").run()
    assert "n'a pas le droit de payer en ligne" in texts(at)
    assert not [b for b in at.button if b.key == "invoices_pay"]
    at.button(key="invoices_request_right").click().run()
    # The answer stands in the box where the button was, above the stored state, after the rerun.
    assert [s.value for s in at.success] == [
        "Demande envoyée : la mairie vous répondra prochainement. Vous verrez sa réponse sur cette page."
    ]
    assert "en attente de la réponse de la mairie" in texts(at)
    assert not [b for b in at.button if b.key == "invoices_request_right"]
    assert demo_db.value("SELECT payment_right FROM families WHERE id = 2") == "requested"
    at.run()  # a later run shows the stored state only
    assert not at.success and "en attente de la réponse de la mairie" in texts(at)


def test_a_phone_gets_one_card_per_invoice_with_state_month_amount_and_number(demo_db):
    at = app_test("pages/mes_factures.py", demo_db, "parent@demo.fr").run()
    paid, unpaid = invoice_id(demo_db, "F-2026-000001"), invoice_id(demo_db, "F-2026-000267")
    assert at.button(key=f"invoices_card_{unpaid}").label == (
        "🔴 Non soldée · Octobre 2026 · reste 83,50\u00a0€ · F-2026-000267 — affichée ci-dessous"
    )
    assert (
        at.button(key=f"invoices_card_{paid}").label == "🟢 Soldée · Septembre 2026 · reste 0,00\u00a0€ · F-2026-000001"
    )
    at.button(key=f"invoices_card_{paid}").click().run()
    assert "Facture F-2026-000001" in texts(at) and at.session_state["invoices_selected"] == paid
    assert at.button(key=f"invoices_card_{paid}").label.endswith("— affichée ci-dessous")


def test_the_homes_payer_link_opens_that_invoice_at_its_payer_step(demo_db):
    at = app_test("pages/mes_factures.py", demo_db, "parent@demo.fr")
    at.query_params["facture"] = "F-2026-000267"
    at.run()
    assert "il ne sera pas possible de revenir en arrière" in at.warning[0].value
    assert "référence de paiement **F2026000267**" in at.warning[0].value  # what the public accountant matches
    link = next(m.value for m in at.markdown if "/paiement/depart?" in m.value)
    assert f"facture={invoice_id(demo_db, 'F-2026-000267')}" in link
    assert "facture" not in at.query_params  # read once: another choice afterwards is not undone
    paid = invoice_id(demo_db, "F-2026-000001")
    at.button(key=f"invoices_card_{paid}").click().run()
    assert "Facture F-2026-000001" in texts(at) and not [m for m in at.markdown if "/paiement/depart?" in m.value]


def test_a_link_to_a_paid_invoice_selects_it_without_a_payer_step(demo_db):
    at = app_test("pages/mes_factures.py", demo_db, "parent@demo.fr")
    at.query_params["facture"] = "F-2026-000001"
    at.run()
    assert "Facture F-2026-000001" in texts(at) and "Paiements reçus" in texts(at)
    assert not [m for m in at.markdown if "/paiement/depart?" in m.value]


def test_a_link_to_another_familys_invoice_shows_nothing_of_it(demo_db):
    other = demo_db.value("SELECT number FROM invoices WHERE family_id = 2 ORDER BY id LIMIT 1")
    at = app_test("pages/mes_factures.py", demo_db, "parent@demo.fr")
    at.query_params["facture"] = other
    at.run()
    assert not at.exception
    assert [i.value for i in at.info] == ["Cette facture n'est pas dans votre compte. Voici vos factures."]
    content = texts(at) + " ".join(b.label for b in at.button)
    assert other not in content and "Facture F-2026-000267" in content
    assert not [m for m in at.markdown if "/paiement/depart?" in m.value]  # nothing opened to pay


def test_another_familys_invoice_cannot_be_injected(demo_db):
    at = app_test("pages/mes_factures.py", demo_db, "parent@demo.fr")
    at.session_state["invoices_selected"] = demo_db.value("SELECT min(id) FROM invoices WHERE family_id = 2")
    at.run()
    assert "Facture F-2026-000267" in texts(at)  # falls back to the family's own invoice
    others = demo_db.value("SELECT number FROM invoices WHERE family_id = 2 ORDER BY id LIMIT 1")
    assert others not in texts(at)


def test_admin_billing_page_drafts_and_grants_rights(demo_db):
    at = app_test("pages/admin_facturation.py", demo_db, "admin@demo.fr").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="billing_month").value.isoformat() == "2026-10-01"
    assert "Rien de nouveau à facturer" in texts(at)
    at.button(key="right_grant_7").click().run()
    assert demo_db.value("SELECT payment_right FROM families WHERE id = 7") == "granted"


def test_the_billing_page_is_closed_to_families_and_staff(demo_db):
    for email in ("parent@demo.fr", "agent@demo.fr"):
        at = app_test("pages/admin_facturation.py", demo_db, email).run()
        assert [e.value for e in at.error] == ["Cette page n'est pas ouverte à votre profil."]


def test_the_pdf_a_family_downloads_names_its_payments_in_french(demo_db):
    """« Télécharger la facture (PDF) » of a paid invoice: the payment's method in French, never « (online) »."""
    from io import BytesIO

    import pypdf

    from lib.services import auth, invoicing
    from tests.conftest import DEMO_NOW

    parent = auth.login(demo_db, "parent@demo.fr", "demo", DEMO_NOW)[1]
    pdf = invoicing.invoice_pdf(demo_db, parent, invoice_id(demo_db, "F-2026-000001"), DEMO_NOW)
    text = "".join(page.extract_text() for page in pypdf.PdfReader(BytesIO(pdf)).pages)
    assert "Paiements reçus" in text and "(paiement en ligne)" in text
    assert "online" not in text


def test_a_phones_browser_is_not_sent_the_grid(demo_db, monkeypatch):
    # The grid's bundle was the page's heaviest download on a phone, where the cards are shown.
    from lib.ui import session

    assert session.is_phone_agent(
        "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36"
    )
    assert session.is_phone_agent(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
    )
    assert not session.is_phone_agent(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
    )
    assert not session.is_phone_agent(None)
    monkeypatch.setattr(session, "on_a_phone", lambda: True)
    at = app_test("pages/mes_factures.py", demo_db, "parent@demo.fr").run()
    assert not at.exception, at.exception
    assert not at.dataframe and not [s for s in at.selectbox if s.key == "invoices_selected"]
    paid = invoice_id(demo_db, "F-2026-000001")
    at.button(key=f"invoices_card_{paid}").click().run()
    assert "Facture F-2026-000001" in texts(at) and at.session_state["invoices_selected"] == paid


def test_viewing_invoices_never_builds_a_pdf(demo_db, monkeypatch):
    """The PDF is made when « Télécharger la facture (PDF) » is clicked (a deferred download), not on
    each view of « Mes factures »: the page runs for every click of every family."""
    from lib.services import invoicing

    built = []
    monkeypatch.setattr(invoicing, "invoice_pdf", lambda *args, **kwargs: built.append(args) or b"%PDF-1.7")
    at = app_test("pages/mes_factures.py", demo_db, "parent@demo.fr").run()
    assert not at.exception, at.exception
    paid = invoice_id(demo_db, "F-2026-000001")
    at.selectbox(key="invoices_selected").set_value(paid).run()
    assert "Facture F-2026-000001" in texts(at)
    assert [b for b in at.get("download_button") if "Télécharger la facture" in b.proto.label]
    assert built == []
