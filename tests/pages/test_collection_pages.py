"""Through AppTest: the invoice's detail in « Mes factures » (debtor, reference, ways to pay,
recourse), « Impayés » for the staff (never a family), and the invoices' legal settings on
« Structures et année scolaire » (a bad SIRET refused in French, nothing written)."""

from tests.helpers import app_test, texts


def test_the_detail_names_the_debtor_the_reference_the_ways_to_pay_and_the_recourse(demo_db):
    at = app_test("pages/mes_factures.py", demo_db, "parent@demo.fr").run()
    assert not at.exception, at.exception
    content = texts(at)
    assert "Facture F-2026-000267" in content
    assert "Débiteur : " in content and "Famille" not in content.split("Débiteur : ")[1].split("\n")[0]
    assert "Référence de paiement : **F2026000267**" in content
    assert "**Comment payer ?**" in content and "« Régie enfance-jeunesse de Belcastel-sur-Save »" in content
    assert "En espèces ou en CESU" in content and "au dos la référence F2026000267" in content
    assert "L'ordonnateur : Monique Garrigues, Maire" in content and "SIRET : 213 102 973 00012" in content
    assert "article L1617-5 du code général des collectivités territoriales" in content


def test_the_staff_read_the_unpaid_list_with_totals_and_the_export(demo_db):
    for email in ("admin@demo.fr", "agent@demo.fr"):
        at = app_test("pages/admin_impayes.py", demo_db, email).run()
        assert not at.exception, at.exception
        metrics = {m.label: m.value for m in at.metric}
        assert int(metrics["Factures impayées"]) > 0 and metrics["Reste à recouvrer"].endswith("€")
        families, invoices = at.dataframe[0].value, at.dataframe[1].value
        assert list(families.columns) == ["Famille", "Débiteur(s)", "Factures", "Reste à payer", "Retard"]
        assert len(invoices) == int(metrics["Factures impayées"])
        assert all(ref == number.replace("-", "") for ref, number in zip(invoices["Référence"], invoices["N°"]))
        assert "`reste_a_payer`" in texts(at)


def test_the_unpaid_list_filters_by_family(demo_db):
    at = app_test("pages/admin_impayes.py", demo_db, "admin@demo.fr").run()
    family = at.selectbox(key="unpaid_family").options[1]
    at.selectbox(key="unpaid_family").select_index(1).run()
    assert not at.exception, at.exception
    (name,) = at.dataframe[0].value["Famille"]
    assert family.startswith(name)


def test_a_family_never_sees_the_unpaid_list(demo_db):
    at = app_test("pages/admin_impayes.py", demo_db, "parent@demo.fr").run()
    assert "Cette page n'est pas ouverte à votre profil." in texts(at)
    assert not at.dataframe and not at.metric


def test_a_bad_siret_is_refused_in_french_and_nothing_is_written(demo_db):
    before = demo_db.rows("SELECT * FROM settings ORDER BY key")
    at = app_test("pages/admin_structures.py", demo_db, "admin@demo.fr").run()
    assert at.text_input(key="legal_siret").value == "21310297300012"
    at.text_input(key="legal_siret").input("21310297300013")
    at.button(key="FormSubmitter:legal_form-Enregistrer les mentions des factures").click().run()
    assert any("n'est pas un numéro SIRET valide" in e.value for e in at.error)
    assert demo_db.rows("SELECT * FROM settings ORDER BY key") == before
    at.text_input(key="legal_siret").input("213 102 973 00020")
    at.button(key="FormSubmitter:legal_form-Enregistrer les mentions des factures").click().run()
    assert any("Mentions des factures enregistrées : siret de la commune." in s.value for s in at.success)
    assert demo_db.value("SELECT value FROM settings WHERE key = 'town_siret'") == "21310297300020"
