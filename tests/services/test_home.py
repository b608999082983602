from datetime import date

import pytest

from lib.domain.actor import Actor
from lib.domain.errors import NotAllowed
from lib.domain.roles import Role
from lib.services import auth, home
from tests.conftest import DEMO_NOW, DEMO_TODAY

# The demo family's home (two children, three sites), the mayor's comparison with last year and the
# family's invoice to pay read the demo town: its year of bookings and invoices make the figures.


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


def test_a_family_never_sees_another_familys_children(town):
    data = home.family_home(town.db, town.login(town.parent_b), DEMO_TODAY)
    assert [c.id for c in data.children] == [town.child_b]


def test_a_forged_family_id_on_a_staff_actor_gives_nothing(town):
    agent = town.login(town.agent)
    forged = Actor(user_id=agent.user_id, email=agent.email, role=Role.AGENT, display_name="x", family_id=town.family_a)
    with pytest.raises(NotAllowed):
        home.family_home(town.db, forged, DEMO_TODAY)


@pytest.mark.parametrize(
    "account, allowed",
    [
        ("parent_a", set()),
        ("agent", {"agent"}),
        ("cook", set()),
        ("mayor", {"elected"}),
        ("admin", {"agent", "elected", "admin"}),
    ],
)
def test_staff_summaries_are_reserved_to_their_roles(town, account, allowed):
    who = town.login(getattr(town, account))
    calls = {
        "agent": lambda: home.agent_home(town.db, who, DEMO_TODAY),
        "elected": lambda: home.elected_home(town.db, who, DEMO_TODAY),
        "admin": lambda: home.admin_home(town.db, who),
    }
    for name, call in calls.items():
        if name in allowed:
            call()
        else:
            with pytest.raises(NotAllowed):
                call()


def test_agent_sees_todays_children_per_site(town):
    counts = home.agent_home(town.db, town.login(town.agent), DEMO_TODAY)
    assert counts.day == DEMO_TODAY  # a Friday with school
    expected = town.db.value("SELECT count(*) FROM bookings WHERE day = ? AND state = 'booked'", [DEMO_TODAY])
    assert sum(r.booked for r in counts.rows) == expected > 0
    assert {r.service for r in counts.rows} == {"Restauration scolaire"}


def test_agent_on_a_saturday_sees_monday(town):
    counts = home.agent_home(town.db, town.login(town.agent), date(2026, 11, 28))
    assert counts.day == date(2026, 11, 30)


def test_elected_compare_with_the_previous_year(demo_db):
    data = home.elected_home(demo_db, actor(demo_db, "maire@demo.fr"), DEMO_TODAY)
    assert (data.label, data.previous_label) == ("2026/2027", "2025/2026")
    assert data.current.children > 300 and data.previous.children > 250
    assert 0.85 < data.current.present_to_date / data.current.checked_to_date < 1


def test_admin_sees_accounts_and_requests(town):
    data = home.admin_home(town.db, town.login(town.admin))
    assert data.payment_requests == 1  # family B asked for the right to pay online
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


def test_a_family_without_the_right_sees_its_unpaid_invoices_but_may_not_pay_online(town):
    who = town.login(town.parent_b)  # asked for the right, not granted yet
    actions = home.family_actions(town.db, who, DEMO_NOW)
    assert not actions.can_pay_online
    own = {n for (n,) in town.db.rows("SELECT number FROM invoices WHERE family_id = ?", [who.family_id])}
    assert actions.unpaid and {p.number for p in actions.unpaid} <= own


@pytest.mark.parametrize("account", ["agent", "admin", "mayor"])
def test_family_actions_are_for_families_only(town, account):
    with pytest.raises(NotAllowed):
        home.family_actions(town.db, town.login(getattr(town, account)), DEMO_NOW)


def test_a_link_names_only_the_familys_own_invoices(town):
    from lib.services import invoicing

    rows = invoicing.family_invoices(town.db, town.login(town.parent_a), DEMO_NOW)
    number = rows[0].number
    assert home.linked_invoice(rows, number).number == number
    assert home.linked_invoice(rows, f" {number} ").number == number
    other = invoicing.family_invoices(town.db, town.login(town.parent_b), DEMO_NOW)[0].number
    for forged in (other, "", number[:-6], None, int(number[-6:]), [number], True):
        assert home.linked_invoice(rows, forged) is None, forged
