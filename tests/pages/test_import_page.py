"""« Import et export des familles » through AppTest (AppTest cannot upload a file: the upload,
the check and the import are clicked for real in tests/browser/test_town_start.py)."""

from tests.helpers import app_test, texts


def test_the_administrator_sees_the_model_the_columns_and_the_export(demo_db):
    at = app_test("pages/admin_import.py", demo_db, "admin@demo.fr").run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "Import et export des familles" in shown
    assert "une ligne par enfant" in shown
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Télécharger le modèle (CSV)", "Exporter les familles (CSV)"]
    # The export is made (and written in the journal) only when downloaded, not when the page is shown.
    assert demo_db.value("SELECT count(*) FROM audit_log WHERE action = 'import.export'") == 0


def test_an_agent_cannot_open_the_import(demo_db):
    at = app_test("pages/admin_import.py", demo_db, "agent@demo.fr").run()
    assert "Import et export des familles" not in texts(at)
    assert not at.get("download_button")
