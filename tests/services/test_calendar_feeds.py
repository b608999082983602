"""The calendar feed's links: who may make them, what they show, and when they stop working.

The small town (tests/helpers.py): Alice (family A) eats at the canteen every school day; her
brother Adrien also goes to the Wednesday centre, closed on `town.closure_day`; Basile is family B's."""

from datetime import UTC, date, timedelta

import pytest
from icalendar import Calendar

from lib.domain.calendar_feed import window
from lib.domain.errors import InvalidInput, NotAllowed
from lib.services import auth, reservations, trail
from lib.services import calendar_feeds as feeds
from tests.conftest import DEMO_NOW, DEMO_TODAY

PUBLIC = "https://famille.petite-ville.test"
NOT_YOURS = "Enfant introuvable ou non rattaché à votre compte."


@pytest.fixture
def town(town, monkeypatch):
    """The small town with its public address configured (the links are built from it)."""
    monkeypatch.delenv("PORTAIL_PUBLIC_URL", raising=False)
    town.db.write(lambda cur: cur.execute("INSERT INTO settings VALUES ('public_url', ?)", [PUBLIC]))
    return town


@pytest.fixture
def parent(town):
    return town.login(town.parent_a)


def snapshot(db):
    return db.rows("SELECT * FROM calendar_feeds ORDER BY id"), db.rows(
        "SELECT action, entity_id FROM audit_log WHERE action LIKE 'calendar.%' AND action <> 'calendar.feed_refused'"
    )


def refusals(db):
    return db.rows("SELECT entity_id, reason FROM audit_log WHERE action = 'calendar.feed_refused' ORDER BY id")


def parse(body: bytes) -> Calendar:
    return Calendar.from_ical(body)


def booked_days(db, child_id, first, last):
    return {
        (service, day)
        for service, day in db.rows(
            "SELECT service_id, day FROM bookings WHERE child_id = ? AND state IN ('booked', 'waiting')"
            " AND day BETWEEN ? AND ?",
            [child_id, first, last],
        )
    }


def year_end(town):
    return town.db.value("SELECT end_date FROM school_years WHERE id = ?", [town.school_year])


# --- making, replacing, deleting ------------------------------------------------------------------


def test_a_parent_makes_a_link_for_their_child_and_only_its_hash_is_kept(town, parent):
    token = feeds.create(town.db, parent, town.child_a, DEMO_NOW)
    assert len(token) >= 40
    (listed,) = feeds.feeds(town.db, parent, town.child_a)
    assert listed.child_id == town.child_a and listed.last_read_at is None
    stored = " ".join(str(v) for row in town.db.rows("SELECT * FROM calendar_feeds") for v in row)
    assert token not in stored
    links = feeds.links(town.db, token)
    assert links.https == f"{PUBLIC}/calendrier/{token}.ics"
    assert links.webcal == f"webcal://famille.petite-ville.test/calendrier/{token}.ics"
    # Audited, never with the token (nor its hash).
    entries = town.db.rows(
        "SELECT action, entity, entity_id, before, after, reason FROM audit_log WHERE action LIKE 'calendar.%'"
    )
    assert [(a, e, i) for a, e, i, *_ in entries] == [("calendar.feed_created", "child", str(town.child_a))]
    token_hash = town.db.value("SELECT token_hash FROM calendar_feeds")
    assert token_hash == auth.token_hash(token)  # the one hashing of secret tokens (sessions, links, feeds)
    assert not any(token in str(v) or token_hash in str(v) for row in entries for v in row)


def test_another_family_cannot_make_a_link_for_alice_with_the_same_refusal_as_for_no_child(town):
    other = town.login(town.parent_b)
    before = snapshot(town.db)
    for child in (town.child_a, 999_999, "1", None, True):
        with pytest.raises(NotAllowed) as refused:
            feeds.create(town.db, other, child, DEMO_NOW)
        assert refused.value.message == NOT_YOURS
    for call in (feeds.replace, feeds.revoke):
        with pytest.raises(NotAllowed, match=NOT_YOURS):
            call(town.db, other, town.child_a, DEMO_NOW)
    with pytest.raises(NotAllowed, match=NOT_YOURS):
        feeds.feeds(town.db, other, town.child_a)
    assert snapshot(town.db) == before
    assert [reason for _, reason in refusals(town.db)] == [NOT_YOURS] * 7
    assert refusals(town.db)[0][0] == str(town.child_a)


def test_another_family_cannot_replace_or_delete_alices_working_link(town, parent):
    token = feeds.create(town.db, parent, town.child_a, DEMO_NOW)
    other = town.login(town.parent_b)
    before = snapshot(town.db)
    for call in (feeds.replace, feeds.revoke):
        with pytest.raises(NotAllowed, match=NOT_YOURS):
            call(town.db, other, town.child_a, DEMO_NOW)
    assert snapshot(town.db) == before
    assert feeds.ics(town.db, token, DEMO_NOW) is not None


@pytest.mark.parametrize("who", ["agent", "admin", "mayor", "cook"])
def test_the_staff_make_no_link_it_is_the_familys_phone(town, who):
    staff = town.login(getattr(town, who))
    before = snapshot(town.db)
    for call in (feeds.create, feeds.replace, feeds.revoke):
        with pytest.raises(NotAllowed, match="depuis le compte de la famille"):
            call(town.db, staff, town.child_a, DEMO_NOW)
    with pytest.raises(NotAllowed):
        feeds.feeds(town.db, staff, town.child_a)
    assert snapshot(town.db) == before


def test_a_second_link_is_refused_replace_it_instead(town, parent):
    feeds.create(town.db, parent, town.child_a, DEMO_NOW)
    before = snapshot(town.db)
    with pytest.raises(InvalidInput, match="remplacez-le ou supprimez-le"):
        feeds.create(town.db, parent, town.child_a, DEMO_NOW)
    assert snapshot(town.db) == before


def test_without_the_portals_public_address_no_link_is_made(town, parent):
    town.db.write(lambda cur: cur.execute("DELETE FROM settings WHERE key = 'public_url'"))
    before = snapshot(town.db)
    with pytest.raises(InvalidInput, match="adresse publique du portail"):
        feeds.create(town.db, parent, town.child_a, DEMO_NOW)
    assert snapshot(town.db) == before


def test_deleting_the_link_stops_it(town, parent):
    token = feeds.create(town.db, parent, town.child_a, DEMO_NOW)
    feeds.revoke(town.db, parent, town.child_a, DEMO_NOW)
    assert feeds.ics(town.db, token, DEMO_NOW) is None
    assert feeds.feeds(town.db, parent, town.child_a) == []
    assert town.db.value("SELECT count(*) FROM audit_log WHERE action = 'calendar.feed_revoked'") == 1
    before = snapshot(town.db)
    with pytest.raises(InvalidInput, match="Aucun lien"):
        feeds.revoke(town.db, parent, town.child_a, DEMO_NOW)
    with pytest.raises(InvalidInput, match="Aucun lien"):
        feeds.replace(town.db, parent, town.child_a, DEMO_NOW)
    assert snapshot(town.db) == before


def test_replacing_the_link_kills_the_old_one(town, parent):
    old = feeds.create(town.db, parent, town.child_a, DEMO_NOW)
    new = feeds.replace(town.db, parent, town.child_a, DEMO_NOW + timedelta(minutes=5))
    assert new != old
    assert feeds.ics(town.db, old, DEMO_NOW) is None
    assert feeds.ics(town.db, new, DEMO_NOW) is not None
    assert len(feeds.feeds(town.db, parent, town.child_a)) == 1
    assert town.db.value("SELECT count(*) FROM audit_log WHERE action = 'calendar.feed_replaced'") == 1


def test_each_child_has_its_own_link(town, parent):
    alice = feeds.create(town.db, parent, town.child_a, DEMO_NOW)
    adrien = feeds.create(town.db, parent, town.child_a2, DEMO_NOW)
    feeds.revoke(town.db, parent, town.child_a2, DEMO_NOW)
    assert feeds.ics(town.db, alice, DEMO_NOW) is not None and feeds.ics(town.db, adrien, DEMO_NOW) is None


# --- reading -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["", "inconnu", "x" * 129, None, 12])
def test_an_unknown_token_reads_nothing(town, token):
    assert feeds.ics(town.db, token, DEMO_NOW) is None


def test_the_feed_holds_alices_booked_days_with_their_alarms(town, parent):
    token = feeds.create(town.db, parent, town.child_a, DEMO_NOW)
    calendar = parse(feeds.ics(town.db, token, DEMO_NOW))
    first, last = window(DEMO_TODAY, year_end(town))
    events = calendar.walk("VEVENT")
    assert {(int(str(e["uid"]).split("-")[1]), e["dtstart"].dt) for e in events} == booked_days(
        town.db, town.child_a, first, last
    )
    assert min(e["dtstart"].dt for e in events) >= DEMO_TODAY - timedelta(days=30)
    assert str(calendar["x-wr-calname"]) == "Alice – Ville de Petite-Ville (essais)"
    assert all(str(e["uid"]).endswith("@famille.petite-ville.test") for e in events)
    # Each alarm rings 24 hours before the day's cancellation limit (2 working days before, 23:59).
    ctx = reservations.booking_context(town.db, parent, town.child_a, town.school_year)
    canteen = ctx.service(town.canteen)
    for event in events:
        limit = canteen.cancel.limit(event["dtstart"].dt, ctx.calendar)
        triggers = [a["trigger"].dt for a in event.walk("VALARM")]
        assert triggers == ([limit.astimezone(UTC) - timedelta(hours=24)] if limit >= DEMO_NOW else [])
    assert any(e.walk("VALARM") for e in events) and any(not e.walk("VALARM") for e in events)


def test_the_feed_shows_the_closure_of_the_childs_site_only(town, parent):
    adrien = parse(feeds.ics(town.db, feeds.create(town.db, parent, town.child_a2, DEMO_NOW), DEMO_NOW))
    alice = parse(feeds.ics(town.db, feeds.create(town.db, parent, town.child_a, DEMO_NOW), DEMO_NOW))
    closed = [e for e in adrien.walk("VEVENT") if str(e["summary"]).startswith("Accueil fermé")]
    assert [(e["dtstart"].dt, str(e["summary"])) for e in closed] == [
        (town.closure_day, f"Accueil fermé : {town.closure_reason}")
    ]
    assert not [e for e in alice.walk("VEVENT") if str(e["summary"]).startswith("Accueil fermé")]


def test_a_waiting_day_is_tentative(town, parent):
    town.db.write(
        lambda cur: cur.execute(
            "UPDATE bookings SET state = 'waiting' WHERE child_id = ? AND day = DATE '2026-12-10'", [town.child_a]
        )
    )
    calendar = parse(feeds.ics(town.db, feeds.create(town.db, parent, town.child_a, DEMO_NOW), DEMO_NOW))
    (waiting,) = [e for e in calendar.walk("VEVENT") if e["dtstart"].dt == date(2026, 12, 10)]
    assert str(waiting["status"]) == "TENTATIVE" and "liste d'attente" in str(waiting["summary"])


def test_the_feed_tells_no_last_name_diet_health_or_price(town, parent):
    town.db.write(
        lambda cur: [
            cur.execute("UPDATE children SET diet_code = 'sans_porc' WHERE id = ?", [town.child_a]),
            cur.execute(
                "INSERT INTO child_health (child_id, has_pai, allergies, protocol, doctor_name, updated_at)"
                " VALUES (?, TRUE, 'arachide', 'stylo adrénaline', 'Docteur Mallet', now())",
                [town.child_a],
            ),
        ]
    )
    body = feeds.ics(town.db, feeds.create(town.db, parent, town.child_a, DEMO_NOW), DEMO_NOW).decode()
    for secret in ("Aubert", "arachide", "adrénaline", "Mallet", "PAI", "porc", "3,50", "350", "€", "MS"):
        assert secret not in body, secret
    assert "Alice : cantine" in body


def test_a_link_stops_with_the_account_that_made_it(town, parent):
    token = feeds.create(town.db, parent, town.child_a, DEMO_NOW)
    town.db.write(lambda cur: cur.execute("UPDATE users SET active = false WHERE id = ?", [parent.user_id]))
    assert feeds.ics(town.db, token, DEMO_NOW) is None
    town.db.write(lambda cur: cur.execute("UPDATE users SET active = true WHERE id = ?", [parent.user_id]))
    assert feeds.ics(town.db, token, DEMO_NOW) is not None


def test_a_link_stops_when_the_child_leaves_the_family(town, parent):
    token = feeds.create(town.db, parent, town.child_a, DEMO_NOW)
    town.db.write(
        lambda cur: cur.execute("UPDATE children SET family_id = ? WHERE id = ?", [town.family_b, town.child_a])
    )
    assert feeds.ics(town.db, token, DEMO_NOW) is None


def test_the_last_read_is_written_at_most_once_an_hour(town, parent):
    token = feeds.create(town.db, parent, town.child_a, DEMO_NOW)

    def last_read():
        return feeds.feeds(town.db, parent, town.child_a)[0].last_read_at

    feeds.ics(town.db, token, DEMO_NOW)
    first = last_read()
    assert first is not None
    feeds.ics(town.db, token, DEMO_NOW + timedelta(minutes=59))
    assert last_read() == first
    feeds.ics(town.db, token, DEMO_NOW + timedelta(minutes=60))
    assert last_read() == first + timedelta(minutes=60)


def test_the_administrator_reads_the_links_history_in_french(town, parent):
    feeds.create(town.db, parent, town.child_a, DEMO_NOW)
    feeds.replace(town.db, parent, town.child_a, DEMO_NOW)
    feeds.revoke(town.db, parent, town.child_a, DEMO_NOW)
    with pytest.raises(NotAllowed):
        feeds.create(town.db, town.login(town.parent_b), town.child_a, DEMO_NOW)
    lines = trail.journal(town.db, town.login(town.admin), kind="Calendrier du téléphone").lines
    assert sorted((line.what, line.concerns) for line in lines) == sorted(
        [
            ("A créé le lien du calendrier du téléphone de Alice Aubert", "Alice Aubert (Famille Aubert)"),
            ("A remplacé le lien du calendrier du téléphone de Alice Aubert", "Alice Aubert (Famille Aubert)"),
            ("A supprimé le lien du calendrier du téléphone de Alice Aubert", "Alice Aubert (Famille Aubert)"),
            ("Lien du calendrier du téléphone refusé pour Alice Aubert", "Alice Aubert (Famille Aubert)"),
        ]
    )


def test_the_other_guardian_sees_no_dead_link_and_may_make_a_new_one(town, parent):
    """Family A's second guardian has a login of their own: when the first one's account is
    deactivated, the first one's link stops, the page lists it no more, and a new one can be made."""
    second = town.db.write(
        lambda cur: cur.execute(
            "INSERT INTO users (email, password_hash, role, family_id, display_name, created_at)"
            " SELECT 'second@petite-ville.test', password_hash, role, family_id, 'Second parent', created_at"
            " FROM users WHERE id = ? RETURNING id",
            [parent.user_id],
        ).fetchone()[0]
    )
    other_guardian = town.login("second@petite-ville.test")
    assert other_guardian.user_id == second and other_guardian.family_id == parent.family_id
    old = feeds.create(town.db, parent, town.child_a, DEMO_NOW)
    assert len(feeds.feeds(town.db, other_guardian, town.child_a)) == 1  # one family, one link
    town.db.write(lambda cur: cur.execute("UPDATE users SET active = false WHERE id = ?", [parent.user_id]))
    assert feeds.feeds(town.db, other_guardian, town.child_a) == []
    new = feeds.create(town.db, other_guardian, town.child_a, DEMO_NOW)
    assert feeds.ics(town.db, new, DEMO_NOW) is not None and feeds.ics(town.db, old, DEMO_NOW) is None
    # Replacing revokes the dead link too: it does not come back with its account.
    feeds.replace(town.db, other_guardian, town.child_a, DEMO_NOW)
    town.db.write(lambda cur: cur.execute("UPDATE users SET active = true WHERE id = ?", [parent.user_id]))
    assert feeds.ics(town.db, old, DEMO_NOW) is None
    assert len(feeds.feeds(town.db, parent, town.child_a)) == 1
