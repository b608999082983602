"""Kitchen, attendance and trends: access and bad input on the small town; saving a class's check
and figures that must agree on the demo town, whose classes and years of bookings give the sums
something to add up."""

from datetime import date, timedelta

import pytest

from lib.domain.errors import InvalidInput, NotAllowed
from lib.services import attendance, kitchen, trends
from tests.conftest import DEMO_NOW, DEMO_TODAY, login

MONDAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    "account, allowed",
    [
        ("parent_a", set()),
        ("cook", {"kitchen"}),
        ("agent", {"kitchen", "check"}),
        ("mayor", {"trends"}),
        ("admin", {"kitchen", "check", "trends"}),
    ],
)
def test_who_may_read_what(town, account, allowed):
    who, db = town.login(getattr(town, account)), town.db
    calls = {
        "kitchen": [
            lambda: kitchen.sheet(db, who, MONDAY, DEMO_NOW),
            lambda: kitchen.daily_series(db, who, DEMO_TODAY, MONDAY),
        ],
        "check": [lambda: attendance.sheet(db, who, DEMO_TODAY, town.school, town.canteen, DEMO_NOW)],
        "trends": [lambda: trends.trends(db, who, DEMO_TODAY)],
    }
    for name, group in calls.items():
        for call in group:
            if name in allowed:
                call()
            else:
                with pytest.raises(NotAllowed):
                    call()


def test_the_mayor_and_the_kitchen_cannot_record_attendance(town):
    for email in (town.mayor, town.cook):
        with pytest.raises(NotAllowed):
            attendance.save(
                town.db, town.login(email), DEMO_TODAY, town.school, town.canteen, {town.child_a: "present"}, DEMO_NOW
            )


def test_attendance_is_saved_in_one_go_and_corrections_are_audited(demo_db):
    agent = login(demo_db, "agent@demo.fr")
    sheet = attendance.sheet(demo_db, agent, DEMO_TODAY, 1, 1, DEMO_NOW)
    booked = [r.child_id for r in sheet.rows]
    assert booked and all(r.booked and r.status is None for r in sheet.rows)
    statuses = dict.fromkeys(booked, "present")
    statuses[booked[0]] = "absent"
    assert "Pointage enregistré" in attendance.save(demo_db, agent, DEMO_TODAY, 1, 1, statuses, DEMO_NOW)
    assert demo_db.value(
        "SELECT count(*) FROM attendance WHERE day = ? AND service_id = 1 AND site_id = 1", [DEMO_TODAY]
    ) == len(booked)
    # A correction: the absent child came after all; a child who came without a booking is added.
    before = attendance.sheet(demo_db, agent, DEMO_TODAY, 1, 1, DEMO_NOW)
    extra = before.addable[0].child_id
    # Added on screen, the child shows after the expected ones as present, not booked; an id the
    # sheet does not offer is ignored.
    shown = before.with_added([extra, -1])
    assert shown[: len(before.rows)] == before.rows and len(shown) == len(before.rows) + 1
    assert (shown[-1].child_id, shown[-1].booked, shown[-1].status) == (extra, False, "present")
    assert before.with_added([]) == before.rows
    attendance.save(demo_db, agent, DEMO_TODAY, 1, 1, {booked[0]: "present", extra: "present"}, DEMO_NOW)
    entry = demo_db.dicts("SELECT * FROM audit_log WHERE action = 'attendance.save' ORDER BY id DESC LIMIT 1")[0]
    assert entry["before"] == f'{{"{booked[0]}": "absent"}}' and entry["reason"] == "1 correction(s)"
    rows = attendance.sheet(demo_db, agent, DEMO_TODAY, 1, 1, DEMO_NOW).rows
    assert {r.child_id: r.booked for r in rows}[extra] is False


@pytest.mark.parametrize(
    "day, site, service, statuses, words",
    [
        (DEMO_TODAY + timedelta(days=3), "school", "canteen", {"child_a": "present"}, "n'est pas encore arrivé"),
        (DEMO_TODAY, 99, "canteen", {"child_a": "present"}, "Structure ou prestation inconnue"),
        (  # no Wednesday afternoon at the school
            DEMO_TODAY,
            "school",
            "wednesday_afternoon",
            {"child_a": "present"},
            "Structure ou prestation inconnue",
        ),
        (DEMO_TODAY, "school", "canteen", {}, "Aucun enfant pointé"),
        (DEMO_TODAY, "school", "canteen", {"child_a": "là"}, "Statut de présence inconnu"),
        (  # Basile goes to the Wednesday centre
            DEMO_TODAY,
            "school",
            "canteen",
            {"child_b": "present"},
            "ni réservé ce jour-là ni inscrit",
        ),
        ("2026-11-27", "school", "canteen", {"child_a": "present"}, "Choisissez un jour"),
    ],
)
def test_bad_attendance_writes_nothing(town, day, site, service, statuses, words):
    db, agent = town.db, town.login(town.agent)
    site = site if isinstance(site, int) else getattr(town, site)
    statuses = {getattr(town, child): status for child, status in statuses.items()}
    before = (
        db.rows("SELECT * FROM attendance ORDER BY child_id, service_id, day"),
        db.value("SELECT count(*) FROM audit_log"),
    )
    with pytest.raises(InvalidInput, match=words):
        attendance.save(db, agent, day, site, getattr(town, service), statuses, DEMO_NOW)
    assert (
        db.rows("SELECT * FROM attendance ORDER BY child_id, service_id, day"),
        db.value("SELECT count(*) FROM audit_log"),
    ) == before


@pytest.mark.parametrize(
    "first, last, words",
    [
        (date(2026, 12, 1), date(2026, 11, 1), "précède"),
        (date(2024, 1, 1), date(2026, 12, 1), "trop longue"),
        (None, date(2026, 12, 1), "Choisissez une période"),
    ],
)
def test_bad_ranges_for_the_chart(town, first, last, words):
    with pytest.raises(InvalidInput, match=words):
        kitchen.daily_series(town.db, town.login(town.cook), first, last)


@pytest.mark.parametrize(
    "change, words",
    [({"grain": "year"}, "Mois"), ({"site_id": 99}, "Structure inconnue"), ({"service_id": 99}, "Prestation inconnue")],
)
def test_bad_trend_filters(town, change, words):
    with pytest.raises(InvalidInput, match=words):
        trends.trends(town.db, town.login(town.mayor), DEMO_TODAY, **change)


def test_trends_compare_years_and_count_money(demo_db):
    data = trends.trends(demo_db, login(demo_db, "maire@demo.fr"), DEMO_TODAY)
    assert (data.label, data.previous_label) == ("2026/2027", "2025/2026")
    september = data.rows[0]
    assert september["label"] == "Septembre" and september["current_booked"] > 0 and september["previous_booked"] > 0
    assert 85 < september["current_rate"] < 100 and 0 < september["current_no_show"] < 15
    billed = {b["period"]: b for b in data.billing}
    assert billed[date(2026, 9, 1)]["paid"] <= billed[date(2026, 9, 1)]["billed"]
    assert data.unpaid_cents == demo_db.value(
        "SELECT sum(total_cents) - (SELECT sum(amount_cents) FROM payments) FROM invoices"
    )
    assert 0 < data.portal.online <= data.portal.families
    weekly = trends.trends(demo_db, login(demo_db, "maire@demo.fr"), DEMO_TODAY, grain="week", site_id=3)
    assert weekly.rows[0]["label"] == "Semaine du 31 août" and all((r["current_meals"] or 0) >= 0 for r in weekly.rows)


def test_the_kitchen_sheet_the_csv_and_the_mayors_month_agree(demo_db):
    cook = login(demo_db, "cuisine@demo.fr")
    day = date(2026, 11, 26)
    sheet = kitchen.sheet(demo_db, cook, day, DEMO_NOW)
    csv = kitchen.sheet_file(demo_db, cook, day, DEMO_NOW, "csv", count_as_printed=False).decode("utf-8-sig")
    csv_total = int(csv.split("TOTAL;;;")[1].split()[0])
    series = sum(r["booked"] for r in kitchen.daily_series(demo_db, cook, day, day))
    assert sheet.total == csv_total == series > 0
    november = sum(
        sum(r["meals"] for r in kitchen.sheet(demo_db, cook, d, DEMO_NOW).rows)
        for d in (date(2026, 11, 1) + timedelta(days=i) for i in range(30))
    )
    data = trends.trends(demo_db, login(demo_db, "maire@demo.fr"), date(2026, 11, 30))
    assert next(r for r in data.rows if r["label"] == "Novembre (mois en cours)")["current_meals"] == november


def test_trends_in_the_summer_have_every_column(demo_db):
    # In August the year just ended is the current one: the demo has its bookings, the small town not.
    data = trends.trends(demo_db, login(demo_db, "maire@demo.fr"), date(2026, 8, 20))
    assert data.rows and all({"current_meals", "previous_meals", "current_rate"} <= set(r) for r in data.rows)


def test_trends_page_in_the_summer(demo_db, monkeypatch):
    from tests.helpers import app_test  # logs in with the demo's accounts

    monkeypatch.setenv("PORTAIL_FROZEN_NOW", "2026-08-20T10:00")
    at = app_test("pages/tendances.py", demo_db, "maire@demo.fr").run()
    assert not at.exception, at.exception
