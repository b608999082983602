from datetime import date

import pytest

from lib.domain.actor import Actor
from lib.domain.errors import NotAllowed
from lib.domain.roles import Role
from lib.services import auth, home
from tests.conftest import DEMO_NOW, DEMO_TODAY


def actor(db, email):
    return auth.login(db, email, "demo", DEMO_NOW)[1]


def test_the_demo_family_sees_its_two_children_registrations_and_next_days(demo_db):
    data = home.family_home(demo_db, actor(demo_db, "parent@demo.fr"), DEMO_TODAY)
    assert data.school_year == "2026/2027"
    by_name = {c.first_name: c for c in data.children}
    assert set(by_name) == {"Léa", "Hugo"}
    assert [r.site for r in by_name["Léa"].registrations] == ["ALAE Jean Moulin (école maternelle)"]
    assert [r.site for r in by_name["Hugo"].registrations] == [
        "ALAE Claude Nougaro (école élémentaire)",
        "ALAE anim'action",
    ]
    assert by_name["Hugo"].registrations[1].services == ["Mercredi repas", "Mercredi après-midi"]
    # Léa's weekly template is the seed's Monday, Tuesday, Friday.
    assert {d.isoweekday() for d, _ in by_name["Léa"].next_bookings} <= {1, 2, 5}
    assert by_name["Léa"].next_bookings[0][0] >= DEMO_TODAY
    assert data.unpaid_count == 1 and data.unpaid_cents > 0


def test_a_family_never_sees_another_familys_children(demo_db):
    other = actor(demo_db, "famille002@demo.fr")
    data = home.family_home(demo_db, other, DEMO_TODAY)
    own = {r[0] for r in demo_db.rows("SELECT id FROM children WHERE family_id = 2")}
    assert {c.id for c in data.children} == own
    assert not {c.first_name for c in data.children} & {"Léa", "Hugo"} or all(
        c.last_name != "Martin" or c.id in own for c in data.children
    )


def test_a_forged_family_id_on_a_staff_actor_gives_nothing(demo_db):
    forged = Actor(user_id=1, email="agent@demo.fr", role=Role.AGENT, display_name="x", family_id=1)
    with pytest.raises(NotAllowed):
        home.family_home(demo_db, forged, DEMO_TODAY)


@pytest.mark.parametrize(
    "email, allowed",
    [
        ("parent@demo.fr", set()),
        ("agent@demo.fr", {"agent"}),
        ("cuisine@demo.fr", set()),
        ("maire@demo.fr", {"elected"}),
        ("admin@demo.fr", {"agent", "elected", "admin"}),
    ],
)
def test_staff_summaries_are_reserved_to_their_roles(demo_db, email, allowed):
    who = actor(demo_db, email)
    calls = {
        "agent": lambda: home.agent_home(demo_db, who, DEMO_TODAY),
        "elected": lambda: home.elected_home(demo_db, who, DEMO_TODAY),
        "admin": lambda: home.admin_home(demo_db, who),
    }
    for name, call in calls.items():
        if name in allowed:
            call()
        else:
            with pytest.raises(NotAllowed):
                call()


def test_agent_sees_todays_children_per_site(demo_db):
    counts = home.agent_home(demo_db, actor(demo_db, "agent@demo.fr"), DEMO_TODAY)
    assert counts.day == DEMO_TODAY  # a Friday with school
    expected = demo_db.value("SELECT count(*) FROM bookings WHERE day = ? AND state = 'booked'", [DEMO_TODAY])
    assert sum(r.booked for r in counts.rows) == expected > 0
    assert {r.service for r in counts.rows} == {"Restauration scolaire"}


def test_agent_on_a_saturday_sees_monday(demo_db):
    counts = home.agent_home(demo_db, actor(demo_db, "agent@demo.fr"), date(2026, 11, 28))
    assert counts.day == date(2026, 11, 30)


def test_elected_compare_with_the_previous_year(demo_db):
    data = home.elected_home(demo_db, actor(demo_db, "maire@demo.fr"), DEMO_TODAY)
    assert (data.label, data.previous_label) == ("2026/2027", "2025/2026")
    assert data.current.children > 300 and data.previous.children > 250
    assert 0.85 < data.current.present_to_date / data.current.checked_to_date < 1


def test_admin_sees_accounts_and_requests(demo_db):
    data = home.admin_home(demo_db, actor(demo_db, "admin@demo.fr"))
    assert data.payment_requests == 3
    assert set(data.users_by_role) == {"famille", "agent", "cuisine", "elu", "admin"}


def test_elected_months_compare_school_months_and_stop_at_today(demo_db):
    data = home.elected_home(demo_db, actor(demo_db, "maire@demo.fr"), DEMO_TODAY)
    labels = [m["month_label"] for m in data.months]
    assert labels[0] == "Septembre" and labels[-1] == "Juillet" and len(labels) == 11
    september = demo_db.value(
        "SELECT count(*) FROM bookings WHERE state = 'booked' AND day BETWEEN DATE '2026-09-01' AND DATE '2026-09-30'"
    )
    last_september = demo_db.value(
        "SELECT count(*) FROM bookings WHERE state = 'booked' AND day BETWEEN DATE '2025-09-01' AND DATE '2025-09-30'"
    )
    assert (data.months[0]["current"], data.months[0]["previous"]) == (september, last_september)
    november = data.months[2]
    assert november["current"] == demo_db.value(
        "SELECT count(*) FROM bookings WHERE state = 'booked' AND day BETWEEN DATE '2026-11-01' AND ?", [DEMO_TODAY]
    )
    assert data.months[3]["current"] is None and data.months[3]["previous"] > 0  # December not come yet


def test_the_family_home_offers_its_unpaid_invoices_to_pay(demo_db):
    actions = home.family_actions(demo_db, actor(demo_db, "parent@demo.fr"), DEMO_NOW)
    assert actions.can_pay_online
    assert [(p.number, p.month, p.left_cents) for p in actions.unpaid] == [("F-2026-000267", date(2026, 10, 1), 8350)]


def test_a_family_without_the_right_sees_its_unpaid_invoices_but_may_not_pay_online(demo_db):
    who = actor(demo_db, "famille002@demo.fr")
    actions = home.family_actions(demo_db, who, DEMO_NOW)
    assert not actions.can_pay_online
    own = {n for (n,) in demo_db.rows("SELECT number FROM invoices WHERE family_id = ?", [who.family_id])}
    assert {p.number for p in actions.unpaid} <= own


@pytest.mark.parametrize("email", ["agent@demo.fr", "admin@demo.fr", "maire@demo.fr"])
def test_family_actions_are_for_families_only(demo_db, email):
    with pytest.raises(NotAllowed):
        home.family_actions(demo_db, actor(demo_db, email), DEMO_NOW)


def test_a_link_names_only_the_familys_own_invoices(demo_db):
    from lib.services import invoicing

    rows = invoicing.family_invoices(demo_db, actor(demo_db, "parent@demo.fr"), DEMO_NOW)
    assert home.linked_invoice(rows, "F-2026-000267").number == "F-2026-000267"
    assert home.linked_invoice(rows, " F-2026-000267 ").number == "F-2026-000267"
    other = demo_db.value("SELECT number FROM invoices WHERE family_id = 2 ORDER BY id LIMIT 1")
    for forged in (other, "", "F-2026-", None, 267, ["F-2026-000267"], True):
        assert home.linked_invoice(rows, forged) is None, forged
