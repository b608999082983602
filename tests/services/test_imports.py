"""The families' CSV import on the small town: checked whole before anything is written, every
problem by line in French, idempotent on the town's identifiers, and the export reads back as no
change."""

import pytest

from lib.domain.errors import InvalidInput, NotAllowed
from lib.domain.family_import import NAMES
from lib.services import families, imports
from tests.conftest import DEMO_NOW
from tests.helpers import sorted_rows

HEADER = ";".join(NAMES)


def _line(**values) -> str:
    base = {
        "famille_id": "F-1",
        "famille_nom": "Famille Lenoir",
        "resp1_prenom": "Claire",
        "resp1_nom": "Lenoir",
        "resp1_email": "claire.lenoir@exemple.test",
        "resp1_telephone": "06 12 34 56 78",
        "qf": "850",
        "qf_date": "01/09/2026",
        "qf_source": "CAF",
        "qf_allocataire": "1234567",
        "enfant_id": "E-1",
        "enfant_prenom": "Léo",
        "enfant_nom": "Lenoir",
        "enfant_naissance": "14/03/2019",
        "enfant_classe": "CP",
        "enfant_regime": "Sans porc",
        "enfant_structure": "École des Tilleuls|Centre du mercredi",
        "enfant_prestations": "cantine|mercredi_repas",
        "autorisation_photo": "oui",
        "autorisation_sorties": "non",
    }
    base.update(values)
    return ";".join(base.get(name, "") for name in NAMES)


def _file(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode(encoding)


def _counts(db):
    return {t: db.value(f"SELECT count(*) FROM {t}") for t in ("families", "guardians", "children", "registrations")}


def test_a_file_is_checked_then_imported_and_the_same_file_again_changes_nothing(town):
    db, admin = town.db, town.login(town.admin)
    data = _file(
        _line(),
        _line(
            enfant_id="E-2",
            enfant_prenom="Lou",
            enfant_naissance="02/05/2021",
            enfant_classe="MS",
            enfant_structure="École des Tilleuls",
            enfant_prestations="cantine",
        ),
        _line(
            famille_id="F-2",
            famille_nom="Famille Roux",
            resp1_prenom="Marc",
            resp1_nom="Roux",
            resp1_email="marc.roux@exemple.test",
            resp1_telephone="",
            qf="",
            qf_date="",
            qf_source="",
            qf_allocataire="",
            enfant_id="",
            enfant_prenom="",
            enfant_nom="",
            enfant_naissance="",
            enfant_classe="",
            enfant_regime="",
            enfant_structure="",
            enfant_prestations="",
            autorisation_photo="",
            autorisation_sorties="",
        ),
    )
    before = _counts(db)
    report = imports.dry_run(db, admin, data, DEMO_NOW)
    assert report.valid, report.problems
    assert (report.counts.families_created, report.counts.children_created) == (2, 2)
    assert _counts(db) == before  # a check writes nothing

    imports.apply(db, admin, data, report.sha256, DEMO_NOW)
    after = _counts(db)
    assert after["families"] == before["families"] + 2 and after["children"] == before["children"] + 2
    family = db.row("SELECT id, name, quotient_familial, billing FROM families WHERE town_ref = 'F-1'")
    assert family[1:] == ("Famille Lenoir", 850, "guardian1")
    assert db.row("SELECT first_name, email, phone FROM guardians WHERE family_id = ? AND rank = 1", [family[0]]) == (
        "Claire",
        "claire.lenoir@exemple.test",
        "06 12 34 56 78",
    )
    assert db.row("SELECT qf, source, allocataire_no FROM family_quotients WHERE family_id = ?", [family[0]]) == (
        850,
        "caf",
        "1234567",
    )
    leo = db.row("SELECT id, diet_code, school_class FROM children WHERE town_ref = 'E-1'")
    assert leo[1:] == ("sans_porc", "CP")
    registered = db.rows(
        """SELECT r.site_id, list(rs.service_id ORDER BY rs.service_id) FROM registrations r
           JOIN registration_services rs ON rs.registration_id = r.id
           WHERE r.child_id = ? AND r.school_year_id = ? GROUP BY r.site_id ORDER BY 1""",
        [leo[0], town.school_year],
    )
    assert registered == [(town.school, [town.canteen]), (town.wednesday_centre, [town.wednesday_meal])]
    assert dict(db.rows("SELECT kind, granted FROM consents WHERE child_id = ?", [leo[0]])) == {
        "photo": True,
        "sorties": False,
    }
    assert db.value("SELECT count(*) FROM audit_log WHERE action = 'import.applied'") == 1

    again = imports.dry_run(db, admin, data, DEMO_NOW)
    assert (again.counts.families_created, again.counts.families_updated) == (0, 0)
    assert (again.counts.children_created, again.counts.children_updated) == (0, 0)
    imports.apply(db, admin, data, again.sha256, DEMO_NOW)
    assert _counts(db) == after
    assert db.value("SELECT count(*) FROM family_quotients WHERE family_id = ?", [family[0]]) == 1


def test_a_changed_line_updates_only_what_changed(town):
    db, admin = town.db, town.login(town.admin)
    first = _file(_line())
    imports.apply(db, admin, first, imports.dry_run(db, admin, first, DEMO_NOW).sha256, DEMO_NOW)
    changed = _file(_line(enfant_classe="CE1", qf="900"))
    report = imports.dry_run(db, admin, changed, DEMO_NOW)
    assert (report.counts.families_updated, report.counts.children_updated) == (1, 1)
    imports.apply(db, admin, changed, report.sha256, DEMO_NOW)
    assert db.value("SELECT school_class FROM children WHERE town_ref = 'E-1'") == "CE1"
    assert db.value("SELECT quotient_familial FROM families WHERE town_ref = 'F-1'") == 900


def test_a_malformed_line_is_reported_with_its_number_and_nothing_is_written(town):
    db, admin = town.db, town.login(town.admin)
    data = _file(
        _line(),
        _line(famille_id="F-2", famille_nom="Famille Roux", resp1_email="roux@exemple.test", enfant_id="E-2"),
        _line(
            famille_id="F-3",
            famille_nom="Famille Petit",
            resp1_email="petit@exemple.test",
            enfant_id="E-3",
            enfant_naissance="31/02/2019",
        ),
        _line(
            famille_id="F-4",
            famille_nom="Famille Blanc",
            resp1_email="blanc@exemple.test",
            enfant_id="E-4",
            enfant_regime="sans gluten",
            enfant_prestations="piscine",
        ),
        _line(famille_id="F-5", famille_nom="Famille Noir", resp1_email=town.parent_b, enfant_id="E-5"),
    )
    before = _counts(db)
    report = imports.dry_run(db, admin, data, DEMO_NOW)
    sentences = [p.sentence() for p in report.problems]
    assert "Ligne 4, enfant_naissance : date illisible « 31/02/2019 » (attendu JJ/MM/AAAA)." in sentences
    assert any(s.startswith("Ligne 5, enfant_regime : « sans gluten » inconnu") for s in sentences)
    assert any(s.startswith("Ligne 5, enfant_prestations : « piscine » inconnue") for s in sentences)
    assert any(s.startswith("Ligne 6, resp1_email :") and "autre compte" in s for s in sentences)
    assert {p.line for p in report.problems} == {4, 5, 6}
    assert db.value("SELECT count(*) FROM audit_log WHERE action = 'import.refused'") == 1
    with pytest.raises(imports.ImportRefused):
        imports.apply(db, admin, data, report.sha256, DEMO_NOW)
    assert _counts(db) == before


def test_an_archived_family_or_child_in_the_file_is_a_problem_not_brought_back(town):
    db, admin = town.db, town.login(town.admin)
    data = _file(
        _line(), _line(famille_id="F-2", famille_nom="Famille Roux", resp1_email="roux@exemple.test", enfant_id="E-2")
    )
    imports.apply(db, admin, data, imports.dry_run(db, admin, data, DEMO_NOW).sha256, DEMO_NOW)
    f1 = db.value("SELECT id FROM families WHERE town_ref = 'F-1'")
    e2 = db.value("SELECT id FROM children WHERE town_ref = 'E-2'")
    families.archive_family(db, admin, f1, "Déménagement", DEMO_NOW)
    families.archive_child(db, admin, e2, "Parti au collège", DEMO_NOW)
    archives = "SELECT town_ref, archived_at FROM families UNION ALL SELECT town_ref, archived_at FROM children"
    before = (_counts(db), sorted_rows(db, archives))
    changed = _file(
        _line(famille_nom="Famille Lenoir-Petit"),
        _line(famille_id="F-2", famille_nom="Famille Roux", resp1_email="roux@exemple.test", enfant_id="E-2"),
    )
    for file in (data, changed):
        report = imports.dry_run(db, admin, file, DEMO_NOW)
        assert [p.sentence() for p in report.problems] == [
            "Ligne 2, famille_id : dossier archivé : désarchivez-le d'abord dans « Familles ».",
            "Ligne 3, enfant_id : dossier archivé : désarchivez-le d'abord dans « Familles ».",
        ]
        with pytest.raises(imports.ImportRefused):
            imports.apply(db, admin, file, report.sha256, DEMO_NOW)
    assert (_counts(db), sorted_rows(db, archives)) == before


def test_an_activated_account_s_login_is_not_changed_by_an_import(town):
    db, admin = town.db, town.login(town.admin)
    data = _file(_line())
    imports.apply(db, admin, data, imports.dry_run(db, admin, data, DEMO_NOW).sha256, DEMO_NOW)
    f1 = db.value("SELECT id FROM families WHERE town_ref = 'F-1'")

    def claire_s_account(cur):
        user_id = cur.execute(
            "INSERT INTO users (id, email, password_hash, role, family_id, display_name, created_at, activated_at) "
            "SELECT max(id) + 1, 'claire.lenoir@exemple.test', 'x', 'famille', ?, 'Claire Lenoir', "
            "'2026-09-01 08:00', '2026-09-01 08:00' FROM users RETURNING id",
            [f1],
        ).fetchall()[0][0]
        cur.execute("UPDATE guardians SET user_id = ? WHERE family_id = ? AND rank = 1", [user_id, f1])

    db.write(claire_s_account)
    assert imports.dry_run(db, admin, data, DEMO_NOW).valid  # the same address: no change
    before = (_counts(db), sorted_rows(db, "SELECT * FROM guardians"))
    for email in ("claire@ailleurs.test", ""):
        changed = _file(_line(resp1_email=email))
        report = imports.dry_run(db, admin, changed, DEMO_NOW)
        assert [p.sentence() for p in report.problems] == [
            "Ligne 2, resp1_email : ce responsable a un compte actif (claire.lenoir@exemple.test) ; "
            "l'adresse de connexion se change depuis « Mon compte »."
        ]
        with pytest.raises(imports.ImportRefused):
            imports.apply(db, admin, changed, report.sha256, DEMO_NOW)
    assert (_counts(db), sorted_rows(db, "SELECT * FROM guardians")) == before


def test_only_the_checked_file_is_imported(town):
    db, admin = town.db, town.login(town.admin)
    checked = imports.dry_run(db, admin, _file(_line()), DEMO_NOW)
    before = _counts(db)
    with pytest.raises(InvalidInput, match="n'est pas celui qui a été vérifié"):
        imports.apply(db, admin, _file(_line(famille_nom="Famille Autre")), checked.sha256, DEMO_NOW)
    assert _counts(db) == before


def test_windows_1252_and_commas_are_read(town):
    db, admin = town.db, town.login(town.admin)
    data = _file(_line()).decode("utf-8").replace(";", ",").encode("cp1252")
    report = imports.dry_run(db, admin, data, DEMO_NOW)
    assert report.valid, report.problems
    imports.apply(db, admin, data, report.sha256, DEMO_NOW)
    assert db.value("SELECT first_name FROM children WHERE town_ref = 'E-1'") == "Léo"


def test_the_export_imports_back_as_no_change(town):
    db, admin = town.db, town.login(town.admin)
    data = _file(
        _line(),
        _line(
            famille_id="F-2",
            famille_nom="Famille Roux",
            resp1_email="roux@exemple.test",
            enfant_id="E-2",
            resp2_prenom="Paul",
            resp2_nom="Roux",
            facturation="resp2",
        ),
    )
    imports.apply(db, admin, data, imports.dry_run(db, admin, data, DEMO_NOW).sha256, DEMO_NOW)
    exported = imports.export(db, admin, DEMO_NOW)
    # The small town's own families have no town identifier: keep the lines that have one.
    kept = [line for line in exported.decode("utf-8-sig").splitlines() if line.startswith(("famille_id", "F-"))]
    report = imports.dry_run(db, admin, "\n".join(kept).encode(), DEMO_NOW)
    assert report.valid, report.problems
    assert report.counts.families_unchanged == 2 and report.counts.children_unchanged == 2
    assert report.counts.families_updated == report.counts.children_updated == 0


@pytest.mark.parametrize("who", ["agent", "cook", "mayor", "parent_a"])
def test_only_the_administrator_imports_or_exports(town, who):
    actor = town.login(getattr(town, who))
    data = _file(_line())
    for call in (
        lambda: imports.dry_run(town.db, actor, data, DEMO_NOW),
        lambda: imports.apply(town.db, actor, data, imports.digest(data), DEMO_NOW),
        lambda: imports.export(town.db, actor, DEMO_NOW),
        lambda: imports.template(actor),
    ):
        with pytest.raises(NotAllowed):
            call()
    assert town.db.value("SELECT count(*) FROM families WHERE town_ref IS NOT NULL") == 0
