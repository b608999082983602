import json
import subprocess
import sys
from collections import Counter
from datetime import timedelta

import pytest
from argon2 import PasswordHasher, extract_parameters, profiles

from lib.domain import login_policy as policy
from lib.domain.errors import InvalidInput, LoginRefused, TooManyAttempts
from lib.domain.roles import Role
from lib.services import auth
from tests.conftest import DEMO_NOW
from tests.helpers import TOWN_PASSWORD as PASSWORD
from tests.serve import ROOT


def counts(db):
    return db.row(
        "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM login_throttle),"
        " (SELECT count(*) FROM audit_log), (SELECT count(*) FROM users)"
    )


@pytest.mark.parametrize(
    "email, role, family",
    [
        ("parent@demo.fr", Role.FAMILY, 1),
        ("agent@demo.fr", Role.AGENT, None),
        ("cuisine@demo.fr", Role.KITCHEN, None),
        ("maire@demo.fr", Role.ELECTED, None),
        ("admin@demo.fr", Role.ADMIN, None),
    ],
)
def test_each_demo_account_logs_in(demo_db, email, role, family):
    token, actor = auth.login(demo_db, email.upper(), "demo", DEMO_NOW, "127.0.0.1")
    assert (actor.email, actor.role, actor.family_id) == (email, role, family)
    assert auth.actor_for_token(demo_db, token, DEMO_NOW) == actor


def test_the_cookie_token_is_not_stored_in_clear(town):
    token, _ = auth.login(town.db, town.parent_a, PASSWORD, DEMO_NOW)
    stored = [r[0] for r in town.db.rows("SELECT token_hash FROM sessions")]
    assert token not in stored and len(stored) == 1


@pytest.mark.parametrize("known, password", [(True, "wrong"), (False, PASSWORD)])
def test_wrong_credentials_write_only_the_throttle_counter(town, known, password):
    email = town.parent_a if known else "personne@petite-ville.test"
    sessions, throttle, audit, users = counts(town.db)
    with pytest.raises(LoginRefused) as err:
        auth.login(town.db, email, password, DEMO_NOW, "10.0.0.1")
    assert err.value.message == "E-mail ou mot de passe incorrect."  # same words: no account enumeration
    assert counts(town.db) == (sessions, throttle + 2, audit, users)


@pytest.mark.parametrize(
    "email, password, words",
    [
        ("", "demo", "Saisissez votre adresse"),
        ("parent@demo.fr", "", "Saisissez votre mot de passe"),
        ("x" * 300 + "@demo.fr", "demo", "trop longue"),
        ("parent@demo.fr'; DROP TABLE users; --", "demo", "invalide"),
        ("par ent@demo.fr", "demo", "invalide"),
        ("parent@demo.fr", "p" * 1000, "trop long"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(town, email, password, words):
    before = counts(town.db)
    with pytest.raises(InvalidInput) as err:
        auth.login(town.db, email, password, DEMO_NOW, "10.0.0.1")
    assert words in err.value.message
    assert counts(town.db) == before


def test_outside_the_tests_passwords_are_hashed_at_the_production_cost():
    """The tests' cheap hasher (tests/conftest.py) is theirs alone: a process that imports the
    service as the server does hashes with 64 MiB, 3 passes, 4 lanes, whatever its environment."""
    script = "from lib.services import auth; print(auth.hash_password('x')); print(auth.PASSWORDS.dummy_hash)"
    made = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    for password_hash in made.stdout.split():
        cost = extract_parameters(password_hash)
        assert (cost.memory_cost, cost.time_cost, cost.parallelism) == (65536, 3, 4)
    assert auth.PRODUCTION_COST == profiles.RFC_9106_LOW_MEMORY


def test_the_tests_hash_cheaply_and_still_check_a_production_hash(demo_db):
    demo_hash = demo_db.value("SELECT password_hash FROM users WHERE email = 'parent@demo.fr'")
    for cheap in (demo_hash, auth.hash_password("demo"), auth.PASSWORDS.dummy_hash):
        assert extract_parameters(cheap) == profiles.CHEAPEST
    costly = PasswordHasher.from_parameters(auth.PRODUCTION_COST).hash("un mot de passe coûteux")
    demo_db.write(lambda cur: cur.execute("UPDATE users SET password_hash = ? WHERE email = 'agent@demo.fr'", [costly]))
    assert auth.login(demo_db, "agent@demo.fr", "un mot de passe coûteux", DEMO_NOW)[1].email == "agent@demo.fr"
    with pytest.raises(LoginRefused):
        auth.login(demo_db, "agent@demo.fr", "demo", DEMO_NOW)


OWNER_ADDRESS = "198.51.100.7"


def guess(db, email, now, address, password="wrong-guess"):
    """One attempt; 'refused' (wrong password) or 'wait' (throttled). A success fails the test."""
    try:
        auth.login(db, email, password, now, address)
    except TooManyAttempts:
        return "wait"
    except LoginRefused:
        return "refused"
    raise AssertionError("an attacker's guess logged in")


@pytest.mark.parametrize(
    "addresses",
    [
        ["203.0.113.66"],  # one address
        [f"10.{n // 250}.{n % 250}.1" for n in range(1000)],  # a botnet: one guess each
        [f"2001:db8:{n:x}::1" for n in range(100)],  # IPv6, one /64 each
    ],
)
def test_a_thousand_guesses_neither_succeed_nor_stop_the_owner(town, addresses):
    auth.login(town.db, town.admin, PASSWORD, DEMO_NOW - timedelta(days=3), OWNER_ADDRESS)  # the owner's usual address
    outcomes = Counter()
    for n in range(1000):
        now = DEMO_NOW + timedelta(seconds=n)
        outcomes[guess(town.db, town.admin, now, addresses[n % len(addresses)])] += 1
        if n % 250 == 249:
            # In the middle of the attack and at its end, the owner logs in at once, from home...
            token, actor = auth.login(town.db, town.admin, PASSWORD, now, OWNER_ADDRESS)
            assert actor.email == town.admin and auth.actor_for_token(town.db, token, now) == actor
    # ...and from an address never used before.
    auth.login(town.db, town.admin, PASSWORD, DEMO_NOW + timedelta(seconds=1000), "192.0.2.200")
    assert outcomes["refused"] + outcomes["wait"] == 1000
    if len(addresses) == 1:
        assert outcomes["wait"] > 950  # the single address spent the attack waiting
    assert town.db.value("SELECT count(*) FROM sessions") == 6  # the owner's, none of the attacker's


def test_failures_slow_the_pair_more_and_more_but_never_lock_it(town):
    address = "203.0.113.5"
    for _ in range(3):  # a few typos cost nothing
        assert guess(town.db, town.parent_a, DEMO_NOW, address) == "refused"
    assert guess(town.db, town.parent_a, DEMO_NOW, address) == "refused"  # the 4th: next one in 5 s
    with pytest.raises(TooManyAttempts) as err:
        auth.login(town.db, town.parent_a, PASSWORD, DEMO_NOW + timedelta(seconds=2), address)
    assert err.value.message == ("Trop de tentatives de connexion échouées : par sécurité, réessayez dans 3 secondes.")
    now = DEMO_NOW + timedelta(seconds=5)
    waits = []
    for _ in range(12):
        assert guess(town.db, town.parent_a, now, address) == "refused"
        with pytest.raises(TooManyAttempts) as err:
            auth.login(town.db, town.parent_a, PASSWORD, now, address)
        waits.append(int(err.value.message.split("dans ")[1].split(" ")[0]))
        now += timedelta(seconds=waits[-1])
    assert waits == [10, 20, 40, 80, 160, 320, 640, 900, 900, 900, 900, 900]  # doubling, up to 15 minutes
    # Once the wait is over, the right password works and forgets the failures.
    auth.login(town.db, town.parent_a, PASSWORD, now, address)
    assert town.db.value("SELECT count(*) FROM login_throttle WHERE key LIKE 'pair:%'") == 0
    # A quiet day forgets them too.
    for _ in range(4):
        guess(town.db, town.parent_a, now, address)
    assert guess(town.db, town.parent_a, now + timedelta(hours=24), address) == "refused"


def test_a_throttled_attempt_is_refused_without_checking_or_writing_anything(town):
    for _ in range(4):
        guess(town.db, town.parent_a, DEMO_NOW, "203.0.113.5")
    before = town.db.rows("SELECT * FROM login_throttle ORDER BY key")
    assert guess(town.db, town.parent_a, DEMO_NOW, "203.0.113.5", password=PASSWORD) == "wait"
    assert town.db.rows("SELECT * FROM login_throttle ORDER BY key") == before
    assert town.db.value("SELECT count(*) FROM sessions") == 0


def test_an_address_guessing_many_accounts_waits_only_for_accounts_it_never_opened(town):
    address = "203.0.113.9"
    auth.login(town.db, town.parent_a, PASSWORD, DEMO_NOW - timedelta(hours=1), address)  # known here
    for n in range(11):
        assert guess(town.db, town.strangers[n], DEMO_NOW, address) == "refused"
    # The 11th account tried: the address now waits before trying any account it never opened...
    with pytest.raises(TooManyAttempts) as err:
        auth.login(town.db, town.strangers[11], PASSWORD, DEMO_NOW, address)
    assert "réessayez dans 5 secondes" in err.value.message
    # ...but the family that logs in from there every day is not held up,
    auth.login(town.db, town.parent_a, PASSWORD, DEMO_NOW, address)
    # nor is anyone elsewhere, and the address gets its next try once the wait is over.
    auth.login(town.db, town.strangers[11], PASSWORD, DEMO_NOW, "203.0.113.10")
    auth.login(town.db, town.strangers[12], PASSWORD, DEMO_NOW + timedelta(seconds=5), address)


def test_an_address_unused_for_90_days_is_a_stranger_again(town):
    address = "203.0.113.9"
    auth.login(town.db, town.parent_a, PASSWORD, DEMO_NOW - timedelta(days=91), address)
    for n in range(11):
        guess(town.db, town.strangers[n], DEMO_NOW, address)
    assert guess(town.db, town.parent_a, DEMO_NOW, address, password=PASSWORD) == "wait"
    auth.login(town.db, town.parent_a, PASSWORD, DEMO_NOW + timedelta(seconds=5), address)
    assert town.db.value("SELECT count(*) FROM login_known_addresses WHERE email = ?", [town.parent_a]) == 1


def test_a_successful_login_does_not_wipe_the_addresss_count_of_guesses(town):
    address = "203.0.113.9"
    for n in range(10):
        guess(town.db, town.strangers[n], DEMO_NOW, address)
    auth.login(town.db, town.strangers[10], PASSWORD, DEMO_NOW, address)  # the attacker's own account
    assert guess(town.db, town.strangers[11], DEMO_NOW, address) == "refused"  # the 11th unknown failure
    assert guess(town.db, town.strangers[12], DEMO_NOW, address) == "wait"


@pytest.mark.parametrize(
    "client, key",
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        (None, "inconnue"),
        ("testclient", "inconnue"),
    ],
)
def test_addresses_are_counted_per_host_and_per_ipv6_64(client, key):
    assert policy.address_key(client) == key


@pytest.mark.parametrize("token", [None, "", "forged-token", "x" * 5000])
def test_forged_tokens_are_refused(town, token):
    with pytest.raises(LoginRefused) as err:
        auth.actor_for_token(town.db, token, DEMO_NOW)
    assert "reconnectez-vous" in err.value.message


def test_a_session_in_use_lasts_seven_days_and_logout_ends_it(town):
    token, _ = auth.login(town.db, town.parent_a, PASSWORD, DEMO_NOW)
    for hours in range(0, 7 * 24, 6):  # used every 6 hours
        auth.actor_for_token(town.db, token, DEMO_NOW + timedelta(hours=hours))
    with pytest.raises(LoginRefused):
        auth.actor_for_token(town.db, token, DEMO_NOW + timedelta(days=7))
    token, _ = auth.login(town.db, town.parent_a, PASSWORD, DEMO_NOW)
    assert auth.logout(town.db, token, DEMO_NOW) is True
    with pytest.raises(LoginRefused):
        auth.actor_for_token(town.db, token, DEMO_NOW)
    assert auth.logout(town.db, token, DEMO_NOW) is False


@pytest.mark.parametrize(
    "who, idle_hours",
    [("parent_a", 12), ("agent", 2), ("cook", 2), ("mayor", 2), ("admin", 2)],
)
def test_a_session_left_idle_ends_after_2_hours_for_staff_and_12_for_families(town, who, idle_hours):
    token, actor = auth.login(town.db, getattr(town, who), PASSWORD, DEMO_NOW)
    later = DEMO_NOW + timedelta(hours=idle_hours) - timedelta(minutes=1)
    assert auth.actor_for_token(town.db, token, later) == actor  # used just in time: the clock restarts
    assert auth.actor_for_token(town.db, token, later + timedelta(hours=idle_hours, minutes=-2)) == actor
    with pytest.raises(LoginRefused) as err:
        auth.actor_for_token(town.db, token, later + timedelta(hours=2 * idle_hours))
    assert err.value.message == auth.SESSION_EXPIRED


def test_logout_everywhere_ends_every_session_of_the_account_only(town):
    phone, _ = auth.login(town.db, town.parent_a, PASSWORD, DEMO_NOW, "192.0.2.1")
    laptop, _ = auth.login(town.db, town.parent_a, PASSWORD, DEMO_NOW, "192.0.2.2")
    agent, _ = auth.login(town.db, town.agent, PASSWORD, DEMO_NOW)
    assert auth.logout(town.db, laptop, DEMO_NOW, everywhere=True) is True
    for token in (phone, laptop):
        with pytest.raises(LoginRefused):
            auth.actor_for_token(town.db, token, DEMO_NOW)
    assert auth.actor_for_token(town.db, agent, DEMO_NOW).email == town.agent
    assert logged(town.db) == [
        ("auth.logout", town.parent_a, '{"everywhere": true, "other_sessions": 1}'),
        ("auth.login", town.agent, '{"address": "inconnue"}'),
        ("auth.login", town.parent_a, '{"address": "192.0.2.2"}'),
        ("auth.login", town.parent_a, '{"address": "192.0.2.1"}'),
    ]


def logged(db):
    return db.rows(
        "SELECT a.action, u.email, a.after FROM audit_log a JOIN users u ON u.id = a.user_id"
        " WHERE a.action LIKE 'auth.%' ORDER BY a.id DESC"
    )


def test_login_and_logout_are_in_the_journal_in_french(town):
    from lib.domain.journal import Entry, sentence

    token, _ = auth.login(town.db, town.agent, PASSWORD, DEMO_NOW)
    auth.logout(town.db, token, DEMO_NOW)
    assert [sentence(Entry(action=a, entity="user", after=json.loads(after))) for a, _, after in logged(town.db)] == [
        "S'est déconnecté(e)",
        "S'est connecté(e)",
    ]


@pytest.mark.parametrize(
    "public_url, secure", [("https://famille.ma-ville.fr/", True), ("http://127.0.0.1:8501", False), ("", False)]
)
def test_cookies_need_https_when_the_public_address_is_https(town, public_url, secure):
    town.db.write(
        lambda cur: cur.execute(
            "INSERT INTO settings VALUES ('public_url', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [public_url],
        )
    )
    assert auth.cookies_need_https(town.db) is secure


# --- changing one's password ----------------------------------------------------------------------

NEW = "cheval agrafe batterie correcte"


def account_state(db):
    return (
        db.rows("SELECT id, password_hash FROM users ORDER BY id")
        + db.rows("SELECT token_hash FROM sessions ORDER BY 1")
        + db.rows("SELECT count(*) FROM audit_log")
    )


@pytest.mark.parametrize(
    "current, new, again, error, words",
    [
        ("", NEW, NEW, InvalidInput, "Saisissez votre mot de passe actuel."),
        ("mauvais", NEW, NEW, LoginRefused, "Le mot de passe actuel est incorrect."),
        (PASSWORD, "", "", InvalidInput, "Saisissez le nouveau mot de passe."),
        (PASSWORD, "court123", "court123", InvalidInput, "trop court : au moins 12 caractères"),
        (PASSWORD, "x" * 300, "x" * 300, InvalidInput, "trop long"),
        (PASSWORD, NEW, NEW + "!", InvalidInput, "Les deux saisies du nouveau mot de passe sont différentes."),
        (PASSWORD, "password1234", "password1234", InvalidInput, "listes de mots de passe dérobés"),
        (PASSWORD, "Qwertyuiop12", "Qwertyuiop12", InvalidInput, "listes de mots de passe dérobés"),
        (PASSWORD, "azertyuiopqs", "azertyuiopqs", InvalidInput, "trop facile à deviner"),
        (PASSWORD, "aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaa", InvalidInput, "trop facile à deviner"),
        # Built on the account's own name or e-mail ({first}, {last}, {email}: the parent's).
        (
            PASSWORD,
            "{first}.{last}.{first}",
            "{first}.{last}.{first}",
            InvalidInput,
            "Votre nom et votre adresse e-mail",
        ),
        (PASSWORD, "{First}{Last}2024", "{First}{Last}2024", InvalidInput, "ne comptent pas dans les 12 caractères"),
        (PASSWORD, "{email}!!", "{email}!!", InvalidInput, "ne comptent pas"),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(town, current, new, again, error, words):
    token, actor = auth.login(town.db, town.parent_a, PASSWORD, DEMO_NOW)
    first, last = actor.display_name.split()
    own = {"first": first.lower(), "last": last.lower(), "First": first, "Last": last, "email": actor.email}
    new, again = new.format(**own), again.format(**own)
    before = account_state(town.db)
    with pytest.raises(error) as err:
        auth.change_password(town.db, actor, token, current, new, again, DEMO_NOW)
    assert words in err.value.message
    assert account_state(town.db) == before


def test_a_password_change_ends_the_other_sessions_and_is_audited(town):
    token, actor = auth.login(town.db, town.parent_a, PASSWORD, DEMO_NOW, "192.0.2.1")
    thief, _ = auth.login(town.db, town.parent_a, PASSWORD, DEMO_NOW, "203.0.113.66")
    assert auth.change_password(town.db, actor, token, PASSWORD, NEW, NEW, DEMO_NOW) == 1
    assert auth.actor_for_token(town.db, token, DEMO_NOW) == actor  # this device stays logged in
    with pytest.raises(LoginRefused):
        auth.actor_for_token(town.db, thief, DEMO_NOW)
    with pytest.raises(LoginRefused):
        auth.login(town.db, town.parent_a, PASSWORD, DEMO_NOW, "192.0.2.1")
    auth.login(town.db, town.parent_a, NEW, DEMO_NOW, "192.0.2.1")
    assert logged(town.db)[1] == ("auth.password", town.parent_a, '{"other_sessions": 1}')
    with pytest.raises(InvalidInput, match="différent de l'actuel"):
        auth.change_password(town.db, actor, token, NEW, NEW, NEW, DEMO_NOW)


def test_guessing_the_current_password_from_a_session_is_throttled_like_a_login(town):
    token, actor = auth.login(town.db, town.parent_a, PASSWORD, DEMO_NOW, "192.0.2.1")
    for _ in range(4):
        with pytest.raises(LoginRefused) as err:
            auth.change_password(town.db, actor, token, "devine", NEW, NEW, DEMO_NOW, "192.0.2.1")
        assert err.value.message == "Le mot de passe actuel est incorrect."
    with pytest.raises(TooManyAttempts, match="réessayez dans 5 secondes"):
        auth.change_password(town.db, actor, token, PASSWORD, NEW, NEW, DEMO_NOW, "192.0.2.1")
    auth.change_password(town.db, actor, token, PASSWORD, NEW, NEW, DEMO_NOW + timedelta(seconds=5), "192.0.2.1")


def test_a_deactivated_account_cannot_log_in_nor_keep_its_session(town):
    token, _ = auth.login(town.db, town.agent, PASSWORD, DEMO_NOW)
    town.db.write(lambda cur: cur.execute("UPDATE users SET active = FALSE WHERE email = ?", [town.agent]))
    with pytest.raises(LoginRefused):
        auth.actor_for_token(town.db, token, DEMO_NOW)
    with pytest.raises(LoginRefused):
        auth.login(town.db, town.agent, PASSWORD, DEMO_NOW)
