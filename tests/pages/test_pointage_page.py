"""« Pointage » through AppTest: what the agent sees is what is stored, before and after each button."""

from datetime import date

import pytest

from lib.domain.errors import InvalidInput
from lib.services import attendance
from tests.conftest import DEMO_NOW, login
from tests.helpers import app_test

TODAY = date(2026, 11, 27)


def stored(db) -> dict[int, str | None]:
    rows = db.rows(
        """SELECT b.child_id, a.status FROM bookings b LEFT JOIN attendance a ON a.child_id = b.child_id
                      AND a.day = b.day AND a.service_id = b.service_id
                      WHERE b.day = ? AND b.site_id = 1 AND b.service_id = 1 AND b.state = 'booked'""",
        [TODAY],
    )
    return dict(rows)


def grid(at) -> dict[int, str]:
    frame = at.dataframe[0].value
    return dict(zip(frame["N°"].astype(int), frame["Présence"]))


def test_mark_the_rest_present_keeps_the_absences_chosen_in_the_grid(demo_db):
    at = app_test("pages/pointage.py", demo_db, "agent@demo.fr").run()
    assert not at.exception, at.exception
    before = stored(demo_db)
    assert set(before.values()) == {None} and len(before) >= 4
    editor = at.data_editor[0]
    first, second = (int(n) for n in editor.value["N°"][:2])
    at.session_state[editor.key] = {
        "edited_rows": {0: {"Présence": "Absent"}, 1: {"Présence": "Absence justifiée"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    rest = len(before) - 2
    button = at.button(key="check_all_present")
    assert button.label == f"Marquer présents les {rest} enfant(s) non pointés"  # the two chosen are not counted
    assert "2 changement(s) pas encore enregistré(s)." in [w.value for w in at.warning]
    button.click().run()
    assert not at.exception and not at.error
    after = stored(demo_db)
    assert after[first] == "absent" and after[second] == "justified"
    assert {c for c, s in after.items() if s == "present"} == set(before) - {first, second}
    message = at.success[0].value
    assert f"{rest} enfant(s) non pointé(s) marqué(s) présent(s)" in message and "1 absent" in message
    # The grid shows what is stored now, not the edits it held.
    labels = {None: "—", **attendance.STATUSES}
    assert grid(at) == {c: labels[s] for c, s in after.items()}
    assert "check_all_present" not in [b.key for b in at.button]  # nobody left to mark


def test_saving_the_grid_then_reloading_shows_the_stored_statuses(demo_db):
    at = app_test("pages/pointage.py", demo_db, "agent@demo.fr").run()
    editor = at.data_editor[0]
    child = int(editor.value["N°"][0])
    at.session_state[editor.key] = {"edited_rows": {0: {"Présence": "Absent"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="check_save").click().run()
    assert at.success[0].value.startswith("Pointage enregistré : 1 enfant(s) mis à jour")
    assert stored(demo_db)[child] == "absent"
    fresh = app_test("pages/pointage.py", demo_db, "agent@demo.fr").run()
    assert grid(fresh)[child] == "Absent"


def test_mark_the_rest_present_refuses_when_nobody_is_left_and_writes_nothing(demo_db):
    agent = login(demo_db, "agent@demo.fr")
    sheet = attendance.sheet(demo_db, agent, TODAY, 1, 1, DEMO_NOW)
    everyone = {r.child_id: "absent" for r in sheet.rows}
    before = demo_db.rows("SELECT * FROM attendance ORDER BY ALL")
    with pytest.raises(InvalidInput) as refused:
        attendance.mark_rest_present(demo_db, agent, TODAY, 1, 1, everyone, DEMO_NOW)
    assert refused.value.message == "Tous les enfants attendus sont déjà pointés."
    assert demo_db.rows("SELECT * FROM attendance ORDER BY ALL") == before
