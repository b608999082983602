from datetime import timedelta

import pytest

from lib.domain.errors import InvalidInput, LoginRefused, TooManyAttempts
from lib.domain.roles import Role
from lib.services import auth
from tests.conftest import DEMO_NOW


def counts(db):
    return db.row("SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM login_throttle),"
                  " (SELECT count(*) FROM audit_log), (SELECT count(*) FROM users)")


@pytest.mark.parametrize("email, role, family", [
    ("parent@demo.fr", Role.FAMILY, 1), ("agent@demo.fr", Role.AGENT, None), ("cuisine@demo.fr", Role.KITCHEN, None),
    ("maire@demo.fr", Role.ELECTED, None), ("admin@demo.fr", Role.ADMIN, None),
])
def test_each_demo_account_logs_in(demo_db, email, role, family):
    token, actor = auth.login(demo_db, email.upper(), "demo", DEMO_NOW, "127.0.0.1")
    assert (actor.email, actor.role, actor.family_id) == (email, role, family)
    assert auth.actor_for_token(demo_db, token, DEMO_NOW) == actor


def test_the_cookie_token_is_not_stored_in_clear(demo_db):
    token, _ = auth.login(demo_db, "parent@demo.fr", "demo", DEMO_NOW)
    stored = [r[0] for r in demo_db.rows("SELECT token_hash FROM sessions")]
    assert token not in stored and len(stored) == 1


@pytest.mark.parametrize("email, password", [("parent@demo.fr", "wrong"), ("nobody@demo.fr", "demo")])
def test_wrong_credentials_write_only_the_throttle_counter(demo_db, email, password):
    sessions, throttle, audit, users = counts(demo_db)
    with pytest.raises(LoginRefused) as err:
        auth.login(demo_db, email, password, DEMO_NOW, "10.0.0.1")
    assert err.value.message == "E-mail ou mot de passe incorrect."  # same words: no account enumeration
    assert counts(demo_db) == (sessions, throttle + 2, audit, users)


@pytest.mark.parametrize("email, password, words", [
    ("", "demo", "Saisissez votre adresse"),
    ("parent@demo.fr", "", "Saisissez votre mot de passe"),
    ("x" * 300 + "@demo.fr", "demo", "trop longue"),
    ("parent@demo.fr'; DROP TABLE users; --", "demo", "invalide"),
    ("par ent@demo.fr", "demo", "invalide"),
    ("parent@demo.fr", "p" * 1000, "trop long"),
])
def test_bad_input_is_refused_before_anything_is_written(demo_db, email, password, words):
    before = counts(demo_db)
    with pytest.raises(InvalidInput) as err:
        auth.login(demo_db, email, password, DEMO_NOW, "10.0.0.1")
    assert words in err.value.message
    assert counts(demo_db) == before


def test_five_failures_pause_the_account_even_for_the_right_password(demo_db):
    for attempt in range(4):
        with pytest.raises(LoginRefused) as err:
            auth.login(demo_db, "parent@demo.fr", "nope", DEMO_NOW + timedelta(seconds=attempt))
        assert not isinstance(err.value, TooManyAttempts)
    with pytest.raises(TooManyAttempts):
        auth.login(demo_db, "parent@demo.fr", "nope", DEMO_NOW + timedelta(seconds=5))
    with pytest.raises(TooManyAttempts) as err:
        auth.login(demo_db, "parent@demo.fr", "demo", DEMO_NOW + timedelta(minutes=1))
    assert "9 h 45" in err.value.message  # 9:30 + 15 minutes, Paris time
    assert demo_db.value("SELECT count(*) FROM sessions") == 0
    # Another account is not paused by this one's failures.
    auth.login(demo_db, "agent@demo.fr", "demo", DEMO_NOW + timedelta(minutes=1))
    # After the pause, the right password works and clears the counter.
    auth.login(demo_db, "parent@demo.fr", "demo", DEMO_NOW + timedelta(minutes=16))
    assert demo_db.value("SELECT count(*) FROM login_throttle WHERE key LIKE 'email:%'") == 0


def test_failures_spread_over_time_do_not_lock(demo_db):
    for hour in range(8):
        with pytest.raises(LoginRefused) as err:
            auth.login(demo_db, "parent@demo.fr", "nope", DEMO_NOW + timedelta(hours=hour))
        assert not isinstance(err.value, TooManyAttempts)


def test_many_accounts_tried_from_one_address_pause_that_address(demo_db):
    for n in range(30):
        with pytest.raises(LoginRefused):
            auth.login(demo_db, f"famille{n + 2:03d}@demo.fr", "nope", DEMO_NOW, "203.0.113.9")
    with pytest.raises(TooManyAttempts):
        auth.login(demo_db, "parent@demo.fr", "demo", DEMO_NOW, "203.0.113.9")
    auth.login(demo_db, "parent@demo.fr", "demo", DEMO_NOW, "203.0.113.10")


@pytest.mark.parametrize("token", [None, "", "forged-token", "x" * 5000])
def test_forged_tokens_are_refused(demo_db, token):
    with pytest.raises(LoginRefused) as err:
        auth.actor_for_token(demo_db, token, DEMO_NOW)
    assert "reconnectez-vous" in err.value.message


def test_sessions_expire_and_logout_ends_them(demo_db):
    token, _ = auth.login(demo_db, "parent@demo.fr", "demo", DEMO_NOW)
    auth.actor_for_token(demo_db, token, DEMO_NOW + timedelta(days=6))
    with pytest.raises(LoginRefused):
        auth.actor_for_token(demo_db, token, DEMO_NOW + timedelta(days=8))
    token, _ = auth.login(demo_db, "parent@demo.fr", "demo", DEMO_NOW)
    assert auth.logout(demo_db, token) is True
    with pytest.raises(LoginRefused):
        auth.actor_for_token(demo_db, token, DEMO_NOW)
    assert auth.logout(demo_db, token) is False


def test_a_deactivated_account_cannot_log_in_nor_keep_its_session(demo_db):
    token, _ = auth.login(demo_db, "agent@demo.fr", "demo", DEMO_NOW)
    demo_db.write(lambda cur: cur.execute("UPDATE users SET active = FALSE WHERE email = 'agent@demo.fr'"))
    with pytest.raises(LoginRefused):
        auth.actor_for_token(demo_db, token, DEMO_NOW)
    with pytest.raises(LoginRefused):
        auth.login(demo_db, "agent@demo.fr", "demo", DEMO_NOW)
