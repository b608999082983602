"""An account's life cycle on the small town: invitations, « mot de passe oublié ? », the e-mail
change; the links they send (read from the outbox like a parent reads the message), used once."""

import re
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from lib.domain.account_links import EMAIL_TAKEN, LINK_REFUSED, LinkPurpose, LinkRefused
from lib.domain.errors import InvalidInput, LoginRefused, NotAllowed, NotFound, TooManyAttempts
from lib.services import accounts, auth
from tests.conftest import DEMO_NOW
from tests.helpers import TOWN_PASSWORD

PUBLIC = "https://famille.petite-ville.test"
NEW_PASSWORD = "girafe cerf-volant parapluie orange"
IP = "203.0.113.7"


@pytest.fixture
def db(town):
    town.db.write(lambda cur: cur.execute("INSERT INTO settings VALUES ('public_url', ?)", [PUBLIC]))
    return town.db


TABLES = (
    "users",
    "guardians",
    "link_tokens",
    "outbox",
    "login_throttle",
    "sessions",
    "audit_log",
    "login_known_addresses",
)


def snapshot(db) -> dict[str, list]:
    """What the accounts' entry points may write, table by table."""
    return {table: sorted(db.rows(f"SELECT * FROM {table}"), key=repr) for table in TABLES}


def _mails(db, kind=None):
    sql = "SELECT kind, to_address, body_text FROM outbox" + (" WHERE kind = ?" if kind else "") + " ORDER BY id"
    return db.rows(sql, [kind] if kind else [])


def _token(db, kind) -> str:
    """The token of the last link of `kind` queued, taken from the message's text as a parent would."""
    body = _mails(db, kind)[-1][2]
    url = re.search(rf"{re.escape(PUBLIC)}/auth/\S+", body)[0]
    return parse_qs(urlsplit(url).query)["jeton"][0]


def _audit(db, action):
    return db.rows(
        "SELECT user_id, entity, entity_id, after, reason FROM audit_log WHERE action = ? ORDER BY id", [action]
    )


def _user(db, email):
    return db.value("SELECT id FROM users WHERE email = ?", [email])


def _new_family_account(db, town, email="nouveau.parent@exemple.fr"):
    admin = town.login(town.admin)
    return accounts.create_family_account(db, admin, town.family_b, email, "Nora Besson", DEMO_NOW)


# --- « Mot de passe oublié ? » ---------------------------------------------------------------------


def test_a_reset_link_works_once_sets_the_password_and_ends_every_session(db, town):
    token, _ = auth.login(db, town.parent_a, TOWN_PASSWORD, DEMO_NOW)
    accounts.request_reset(db, town.parent_a, DEMO_NOW, IP)
    (mail,) = _mails(db, "password_reset")
    assert mail[1] == town.parent_a and "une heure" in mail[2]
    link = _token(db, "password_reset")
    later = DEMO_NOW + timedelta(minutes=20)
    assert accounts.reset(db, link, NEW_PASSWORD, NEW_PASSWORD, later, IP) == town.parent_a
    with pytest.raises(LoginRefused):
        auth.actor_for_token(db, token, later)
    assert auth.login(db, town.parent_a, NEW_PASSWORD, later)[1].email == town.parent_a
    with pytest.raises(LoginRefused):  # the old password is gone
        auth.login(db, town.parent_a, TOWN_PASSWORD, later)
    assert [k for k, *_ in _mails(db)] == ["password_reset", "password_changed"]
    assert len(_audit(db, "auth.password_reset")) == 1
    with pytest.raises(LinkRefused) as refused:  # the second use
        accounts.reset(db, link, "autre phrase secrète bien longue", "autre phrase secrète bien longue", later, IP)
    assert refused.value.message == LINK_REFUSED
    assert '"why": "used"' in _audit(db, "auth.link_refused")[-1][3]


def test_the_token_is_stored_as_its_hash_only(db, town):
    accounts.request_reset(db, town.parent_a, DEMO_NOW, IP)
    link = _token(db, "password_reset")
    stored = db.rows("SELECT token_hash FROM link_tokens")
    assert stored == [(auth.token_hash(link),)] and link not in str(db.rows("SELECT * FROM link_tokens"))


def test_an_unknown_email_gets_the_same_answer_nothing_queued_and_an_audit_without_what_was_typed(db, town):
    assert accounts.request_reset(db, "personne@exemple.fr", DEMO_NOW, IP) is None
    assert _mails(db) == [] and db.value("SELECT count(*) FROM link_tokens") == 0
    ((user, entity, entity_id, _after, _reason),) = _audit(db, "auth.reset_unknown")
    assert (user, entity, entity_id) == (None, "address", IP)
    assert "personne" not in str(db.rows("SELECT * FROM audit_log")) + str(db.rows("SELECT * FROM login_throttle"))
    # the same throttle writes as for an account that exists
    assert db.value("SELECT count(*) FROM login_throttle WHERE starts_with(key, 'reset')") == 2


def test_a_closed_account_is_treated_as_unknown(db, town):
    db.write(lambda cur: cur.execute("UPDATE users SET active = FALSE WHERE email = ?", [town.parent_b]))
    accounts.request_reset(db, town.parent_b, DEMO_NOW, IP)
    assert _mails(db) == [] and len(_audit(db, "auth.reset_unknown")) == 1


def test_a_fourth_reset_in_the_hour_is_not_sent_and_the_answer_stays_the_same(db, town):
    for minute in range(4):
        assert accounts.request_reset(db, town.parent_a, DEMO_NOW + timedelta(minutes=minute), IP) is None
    assert len(_mails(db, "password_reset")) == 3
    assert [a[3] for a in _audit(db, "auth.reset_requested")][-1].endswith('"sent": false}')
    accounts.request_reset(db, town.parent_a, DEMO_NOW + timedelta(hours=1), IP)  # the window has closed
    assert len(_mails(db, "password_reset")) == 4


def test_an_address_over_its_limit_is_told_to_wait_in_french_and_nothing_is_written(db, town):
    for n in range(20):
        accounts.request_reset(db, f"inconnu{n}@exemple.fr", DEMO_NOW + timedelta(seconds=n), IP)
    before = snapshot(db)
    with pytest.raises(TooManyAttempts) as refused:
        accounts.request_reset(db, town.parent_a, DEMO_NOW + timedelta(minutes=30), IP)
    assert refused.value.message.endswith("réessayez dans 30 minutes.")
    assert "adresse" not in refused.value.message and "compte" not in refused.value.message
    assert snapshot(db) == before
    accounts.request_reset(db, town.parent_a, DEMO_NOW + timedelta(minutes=30), "198.51.100.9")  # another address
    assert len(_mails(db, "password_reset")) == 1


def test_without_the_public_address_an_account_and_no_account_get_the_same_answer_and_writes(town):
    db = town.db
    before = snapshot(db)
    assert accounts.request_reset(db, town.parent_a, DEMO_NOW, IP) is None
    known = snapshot(db)
    assert accounts.request_reset(db, "personne@exemple.fr", DEMO_NOW, "198.51.100.9") is None
    unknown = snapshot(db)
    assert {t: len(known[t]) - len(before[t]) for t in TABLES} == {t: len(unknown[t]) - len(known[t]) for t in TABLES}
    assert _mails(db) == [] and db.value("SELECT count(*) FROM link_tokens") == 0
    entries = _audit(db, "auth.reset_not_sent")
    assert [(user, entity, entity_id) for user, entity, entity_id, _after, _reason in entries] == [
        (None, "address", IP),
        (None, "address", "198.51.100.9"),
    ]
    assert "public_url" in entries[0][4] and entries[0][4] == entries[1][4]
    logged = str(db.rows("SELECT * FROM audit_log"))
    assert town.parent_a not in logged and "personne" not in logged


def test_a_malformed_email_is_refused_in_french_with_nothing_written(db):
    before = snapshot(db)
    with pytest.raises(InvalidInput, match="Adresse e-mail invalide"):
        accounts.request_reset(db, "pas une adresse", DEMO_NOW, IP)
    assert snapshot(db) == before


def test_an_expired_link_is_refused_at_the_exact_instant(db, town):
    accounts.request_reset(db, town.parent_a, DEMO_NOW, IP)
    link = _token(db, "password_reset")
    before = snapshot(db)
    with pytest.raises(LinkRefused):
        accounts.reset(db, link, NEW_PASSWORD, NEW_PASSWORD, DEMO_NOW + timedelta(hours=1), IP)
    assert '"why": "expired"' in _audit(db, "auth.link_refused")[-1][3]
    assert auth.login(db, town.parent_a, TOWN_PASSWORD, DEMO_NOW + timedelta(hours=1))  # nothing changed
    assert snapshot(db)["users"] == before["users"] and snapshot(db)["link_tokens"] == before["link_tokens"]


def test_a_newer_link_voids_the_older_one(db, town):
    accounts.request_reset(db, town.parent_a, DEMO_NOW, IP)
    first = _token(db, "password_reset")
    accounts.request_reset(db, town.parent_a, DEMO_NOW + timedelta(minutes=1), IP)
    second = _token(db, "password_reset")
    with pytest.raises(LinkRefused):
        accounts.reset(db, first, NEW_PASSWORD, NEW_PASSWORD, DEMO_NOW + timedelta(minutes=2), IP)
    assert accounts.reset(db, second, NEW_PASSWORD, NEW_PASSWORD, DEMO_NOW + timedelta(minutes=2), IP)


@pytest.mark.parametrize("token", [None, "", "x", "a" * 43, "<script>" * 10, "é" * 43])
@pytest.mark.parametrize("use", [accounts.reset, accounts.activate, "confirm"])
def test_unknown_or_malformed_links_get_the_one_answer_and_write_nothing(db, token, use):
    before = snapshot(db)
    with pytest.raises(LinkRefused) as refused:
        if use == "confirm":
            accounts.confirm_email_change(db, token, DEMO_NOW)
        else:
            use(db, token, NEW_PASSWORD, NEW_PASSWORD, DEMO_NOW, IP)
    assert refused.value.message == LINK_REFUSED
    assert snapshot(db) == before  # no audit entry: made-up links cannot fill the log


def test_a_used_link_posted_again_is_audited_with_whose_it_is(db, town):
    accounts.request_reset(db, town.parent_a, DEMO_NOW, IP)
    link = _token(db, "password_reset")
    accounts.reset(db, link, NEW_PASSWORD, NEW_PASSWORD, DEMO_NOW, IP)
    with pytest.raises(LinkRefused):
        accounts.reset(db, link, NEW_PASSWORD, NEW_PASSWORD, DEMO_NOW, IP)
    ((_, entity, entity_id, after, _),) = _audit(db, "auth.link_refused")
    assert (entity, entity_id) == ("user", str(_user(db, town.parent_a)))
    assert after == '{"purpose": "password_reset", "why": "used"}'


def test_a_weak_password_keeps_the_link_working(db, town):
    accounts.request_reset(db, town.parent_a, DEMO_NOW, IP)
    link = _token(db, "password_reset")
    before = snapshot(db)
    with pytest.raises(InvalidInput, match="trop court"):
        accounts.reset(db, link, "court", "court", DEMO_NOW, IP)
    assert snapshot(db) == before
    assert accounts.reset(db, link, NEW_PASSWORD, NEW_PASSWORD, DEMO_NOW, IP)


def test_two_clicks_at_once_use_the_link_once(db, town):
    accounts.request_reset(db, town.parent_a, DEMO_NOW, IP)
    link = _token(db, "password_reset")
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def click(password):
        start.wait()
        try:
            accounts.reset(db, link, password, password, DEMO_NOW, IP)
            outcomes.append("won")
        except LinkRefused:
            outcomes.append("refused")

    threads = [threading.Thread(target=click, args=(p,)) for p in (NEW_PASSWORD, "autre phrase très secrète du soir")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused", "won"]
    assert len(_audit(db, "auth.password_reset")) == 1 and len(_mails(db, "password_changed")) == 1


def test_a_reset_link_is_not_an_invitation_link(db, town):
    accounts.request_reset(db, town.parent_a, DEMO_NOW, IP)
    with pytest.raises(LinkRefused):
        accounts.activate(db, _token(db, "password_reset"), NEW_PASSWORD, NEW_PASSWORD, DEMO_NOW, IP)
    assert '"why": "other_purpose"' in _audit(db, "auth.link_refused")[-1][3]


# --- invitations --------------------------------------------------------------------------------


def test_a_new_family_account_cannot_log_in_until_it_follows_its_invitation(db, town):
    user_id = _new_family_account(db, town)
    assert db.row("SELECT password_hash, activated_at FROM users WHERE id = ?", [user_id]) == ("!", None)
    with pytest.raises(LoginRefused):
        auth.login(db, "nouveau.parent@exemple.fr", "!", DEMO_NOW)
    ((kind, to, body),) = _mails(db)
    assert kind == "invitation" and to == "nouveau.parent@exemple.fr" and "7 jours" in body
    (invitee,) = accounts.not_activated(db, town.login(town.admin))
    assert invitee.user_id == user_id and invitee.expires_at - invitee.invited_at == timedelta(days=7)
    later = DEMO_NOW + timedelta(days=7) - timedelta(seconds=1)
    assert accounts.activate(db, _token(db, "invitation"), NEW_PASSWORD, NEW_PASSWORD, later, IP) == to
    assert auth.login(db, to, NEW_PASSWORD, later)[1].family_id == town.family_b
    assert accounts.not_activated(db, town.login(town.admin)) == []
    assert len(_audit(db, "auth.activated")) == 1


def test_an_invitation_expires_after_seven_days(db, town):
    _new_family_account(db, town)
    with pytest.raises(LinkRefused):
        accounts.activate(
            db, _token(db, "invitation"), NEW_PASSWORD, NEW_PASSWORD, DEMO_NOW + timedelta(days=7, seconds=1), IP
        )
    assert '"why": "expired"' in _audit(db, "auth.link_refused")[-1][3]


def test_resending_an_invitation_voids_the_first_link(db, town):
    user_id = _new_family_account(db, town)
    first = _token(db, "invitation")
    accounts.invite(db, town.login(town.admin), user_id, DEMO_NOW + timedelta(days=1))
    with pytest.raises(LinkRefused):
        accounts.activate(db, first, NEW_PASSWORD, NEW_PASSWORD, DEMO_NOW + timedelta(days=1), IP)
    assert accounts.activate(db, _token(db, "invitation"), NEW_PASSWORD, NEW_PASSWORD, DEMO_NOW + timedelta(days=1))
    assert [a[3].endswith('"resent": true}') for a in _audit(db, "auth.invited")] == [False, True]


def test_an_activated_account_is_not_invited(db, town):
    admin = town.login(town.admin)
    before = snapshot(db)
    with pytest.raises(InvalidInput, match="en attente d'activation"):
        accounts.invite(db, admin, _user(db, town.parent_a), DEMO_NOW)
    with pytest.raises(NotFound):
        accounts.invite(db, admin, 9999, DEMO_NOW)
    assert snapshot(db) == before


@pytest.mark.parametrize("who", ["parent_a", "agent", "mayor", "cook"])
def test_only_the_administrator_invites(db, town, who):
    actor = town.login(getattr(town, who))
    user_id = _new_family_account(db, town)
    before = snapshot(db)
    for target in (user_id, 9999):  # the same refusal whether the account exists or not
        with pytest.raises(NotAllowed):
            accounts.invite(db, actor, target, DEMO_NOW)
    with pytest.raises(NotAllowed):
        accounts.create_family_account(db, actor, town.family_a, "x@exemple.fr", "X Y", DEMO_NOW)
    with pytest.raises(NotAllowed):
        accounts.not_activated(db, actor)
    assert snapshot(db) == before


@pytest.mark.parametrize(
    "family, email, name, error, words",
    [
        ("b", "famille01@petite-ville.test", "Nora Besson", InvalidInput, "déjà celle d'un autre compte"),
        ("b", "FAMILLE01@petite-ville.test ", "Nora Besson", InvalidInput, "déjà celle d'un autre compte"),
        ("b", "nora@", "Nora Besson", InvalidInput, "Adresse e-mail invalide"),
        ("b", "nora@exemple.fr", "  ", InvalidInput, "nom du responsable"),
        (None, "nora@exemple.fr", "Nora Besson", NotFound, "Famille introuvable"),
    ],
)
def test_a_family_account_with_bad_input_is_refused_with_nothing_written(db, town, family, email, name, error, words):
    admin = town.login(town.admin)
    before = snapshot(db)
    with pytest.raises(error, match=words):
        accounts.create_family_account(db, admin, town.family_b if family else 9999, email, name, DEMO_NOW)
    assert snapshot(db) == before


@pytest.mark.parametrize("bad", [None, "abc", "7", 1.5, True, [1]])
@pytest.mark.parametrize(
    "call, words",
    [
        (lambda db, admin, bad: accounts.invite(db, admin, bad, DEMO_NOW), "Compte introuvable"),
        (
            lambda db, admin, bad: accounts.create_family_account(db, admin, bad, "n@exemple.fr", "Nora B", DEMO_NOW),
            "Famille introuvable",
        ),
        (lambda db, admin, bad: accounts.invite_guardian(db, admin, bad, DEMO_NOW), "Responsable introuvable"),
        (lambda db, admin, bad: accounts.family_guardians(db, admin, bad), "Famille introuvable"),
    ],
)
def test_a_malformed_id_is_not_found_in_french_with_nothing_written(db, town, call, words, bad):
    admin = town.login(town.admin)
    before = snapshot(db)
    with pytest.raises(NotFound, match=words):
        call(db, admin, bad)
    assert snapshot(db) == before


def test_no_link_without_the_portals_public_address(town):
    admin = town.login(town.admin)
    before = snapshot(town.db)
    with pytest.raises(InvalidInput, match="public_url"):
        accounts.create_family_account(town.db, admin, town.family_b, "nora@exemple.fr", "Nora Besson", DEMO_NOW)
    assert snapshot(town.db) == before


# --- « Changer d'adresse e-mail » ---------------------------------------------------------------


def test_an_email_change_is_confirmed_at_the_new_address(db, town):
    parent = town.login(town.parent_a)
    kept, _ = auth.login(db, town.parent_a, TOWN_PASSWORD, DEMO_NOW)
    other, _ = auth.login(db, town.parent_a, TOWN_PASSWORD, DEMO_NOW)
    accounts.request_email_change(db, parent, TOWN_PASSWORD, " Anne.Aubert@Exemple.fr ", DEMO_NOW, IP)
    assert [(k, to) for k, to, _ in _mails(db)] == [
        ("email_change", "anne.aubert@exemple.fr"),
        ("email_changed_notice", town.parent_a),
    ]
    assert _user(db, town.parent_a)  # nothing changes before the confirmation
    link = _token(db, "email_change")
    assert accounts.open_link(db, link, LinkPurpose.EMAIL_CHANGE, DEMO_NOW).new_email == ("anne.aubert@exemple.fr")
    assert accounts.confirm_email_change(db, link, DEMO_NOW, kept) == "anne.aubert@exemple.fr"
    assert _user(db, town.parent_a) is None and auth.actor_for_token(db, kept, DEMO_NOW).email == (
        "anne.aubert@exemple.fr"
    )
    with pytest.raises(LoginRefused):
        auth.actor_for_token(db, other, DEMO_NOW)
    assert db.value("SELECT count(*) FROM login_known_addresses WHERE email = 'anne.aubert@exemple.fr'") == 1
    ((_, _, _, after, _),) = _audit(db, "auth.email_changed")
    assert '"other_sessions": 2' in after  # town.login's and `other`
    with pytest.raises(LinkRefused):
        accounts.confirm_email_change(db, link, DEMO_NOW)


def test_an_address_taken_meanwhile_is_refused_at_confirmation(db, town):
    parent = town.login(town.parent_a)
    accounts.request_email_change(db, parent, TOWN_PASSWORD, "libre@exemple.fr", DEMO_NOW, IP)
    link = _token(db, "email_change")
    _new_family_account(db, town, "libre@exemple.fr")
    before = snapshot(db)
    with pytest.raises(InvalidInput, match="déjà celle d'un autre compte"):
        accounts.confirm_email_change(db, link, DEMO_NOW)
    after = snapshot(db)
    assert {t: v for t, v in after.items() if t != "audit_log"} == {t: v for t, v in before.items() if t != "audit_log"}
    assert _audit(db, "auth.email_change_refused")[-1][4] == EMAIL_TAKEN


@pytest.mark.parametrize(
    "password, new, error, words",
    [
        ("", "libre@exemple.fr", InvalidInput, "mot de passe actuel"),
        ("faux mot de passe", "libre@exemple.fr", LoginRefused, "mot de passe actuel est incorrect"),
        (TOWN_PASSWORD, "famille02@petite-ville.test", InvalidInput, "déjà celle d'un autre compte"),
        (TOWN_PASSWORD, "famille01@petite-ville.test", InvalidInput, "déjà l'adresse de votre compte"),
        (TOWN_PASSWORD, "libre@", InvalidInput, "Adresse e-mail invalide"),
    ],
)
def test_a_bad_email_change_request_queues_nothing(db, town, password, new, error, words):
    parent = town.login(town.parent_a)
    with pytest.raises(error, match=words):
        accounts.request_email_change(db, parent, password, new, DEMO_NOW, IP)
    assert _mails(db) == [] and db.value("SELECT count(*) FROM link_tokens") == 0


def test_a_changed_password_is_told_to_the_account(db, town):
    token, parent = auth.login(db, town.parent_a, TOWN_PASSWORD, DEMO_NOW)
    auth.change_password(db, parent, token, TOWN_PASSWORD, NEW_PASSWORD, NEW_PASSWORD, DEMO_NOW, IP)
    ((kind, to, body),) = _mails(db)
    assert (kind, to) == ("password_changed", town.parent_a) and "mot de passe" in body


def _attacker_asks_to_move_the_account(db, town):
    """Someone who knew the password asks to move the account to his address; the link waits in his mailbox."""
    thief = town.login(town.parent_a)
    accounts.request_email_change(db, thief, TOWN_PASSWORD, "voleur@exemple.fr", DEMO_NOW, IP)
    return _token(db, "email_change")


def test_a_forgotten_password_voids_a_pending_email_change(db, town):
    stolen = _attacker_asks_to_move_the_account(db, town)
    accounts.request_reset(db, town.parent_a, DEMO_NOW + timedelta(minutes=5), IP)
    accounts.reset(db, _token(db, "password_reset"), NEW_PASSWORD, NEW_PASSWORD, DEMO_NOW + timedelta(minutes=6), IP)
    with pytest.raises(LinkRefused):
        accounts.confirm_email_change(db, stolen, DEMO_NOW + timedelta(minutes=7))
    assert _user(db, town.parent_a) and _user(db, "voleur@exemple.fr") is None
    assert db.value("SELECT count(*) FROM link_tokens WHERE used_at IS NULL") == 0


def test_a_changed_password_voids_every_pending_link_of_the_account(db, town):
    stolen = _attacker_asks_to_move_the_account(db, town)
    accounts.request_reset(db, town.parent_a, DEMO_NOW, IP)
    reset_link = _token(db, "password_reset")
    token, parent = auth.login(db, town.parent_a, TOWN_PASSWORD, DEMO_NOW)
    auth.change_password(db, parent, token, TOWN_PASSWORD, NEW_PASSWORD, NEW_PASSWORD, DEMO_NOW, IP)
    with pytest.raises(LinkRefused):
        accounts.confirm_email_change(db, stolen, DEMO_NOW + timedelta(minutes=1))
    with pytest.raises(LinkRefused):
        accounts.reset(
            db,
            reset_link,
            "autre phrase de passe tout à fait neuve",
            "autre phrase de passe tout à fait neuve",
            DEMO_NOW,
            IP,
        )
    assert _user(db, town.parent_a) and auth.login(db, town.parent_a, NEW_PASSWORD, DEMO_NOW)


def test_an_activation_voids_a_pending_reset_and_email_change(db, town):
    user_id = _new_family_account(db, town)
    invitation = _token(db, "invitation")
    db.write(
        lambda cur: cur.execute(
            "INSERT INTO link_tokens VALUES ('h-reset', 'password_reset', ?, NULL, ?, ?, NULL, NULL),"
            " ('h-change', 'email_change', ?, 'ailleurs@exemple.fr', ?, ?, NULL, NULL)",
            [user_id, DEMO_NOW.replace(tzinfo=None), DEMO_NOW.replace(tzinfo=None) + timedelta(days=1)] * 2,
        )
    )
    accounts.activate(db, invitation, NEW_PASSWORD, NEW_PASSWORD, DEMO_NOW, IP)
    assert db.rows("SELECT token_hash FROM link_tokens WHERE used_at IS NULL") == []


# --- guardians of the family files ------------------------------------------------------------------


def _guardian(db, family_id, email, first="Marc", last="Aubert", rank=2):
    return db.write(
        lambda cur: cur.execute(
            "INSERT INTO guardians (family_id, rank, first_name, last_name, email) VALUES (?, ?, ?, ?, ?) RETURNING id",
            [family_id, rank, first, last, email],
        ).fetchall()[0][0]
    )


def test_a_guardian_is_invited_with_an_account_made_from_the_file(db, town):
    guardian = _guardian(db, town.family_a, "marc.aubert@exemple.fr")
    accounts.invite_guardian(db, town.login(town.admin), guardian, DEMO_NOW)
    user_id = db.value("SELECT user_id FROM guardians WHERE id = ?", [guardian])
    assert db.row("SELECT email, display_name, family_id, activated_at FROM users WHERE id = ?", [user_id]) == (
        "marc.aubert@exemple.fr",
        "Marc Aubert",
        town.family_a,
        None,
    )
    assert [(k, to) for k, to, _ in _mails(db)] == [("invitation", "marc.aubert@exemple.fr")]
    assert accounts.activate(db, _token(db, "invitation"), NEW_PASSWORD, NEW_PASSWORD, DEMO_NOW, IP)
    assert auth.login(db, "marc.aubert@exemple.fr", NEW_PASSWORD, DEMO_NOW)[1].family_id == town.family_a


@pytest.mark.parametrize(
    "email, words",
    [
        (None, "n'a pas d'adresse e-mail"),
        ("famille02@petite-ville.test", "déjà celle d'un autre compte"),
    ],
)
def test_a_guardian_without_email_or_with_another_accounts_is_refused_with_nothing_written(db, town, email, words):
    guardian = _guardian(db, town.family_a, email)
    admin = town.login(town.admin)
    before = snapshot(db)
    with pytest.raises(InvalidInput, match=words):
        accounts.invite_guardian(db, admin, guardian, DEMO_NOW)
    assert snapshot(db) == before and db.value("SELECT user_id FROM guardians WHERE id = ?", [guardian]) is None


def test_an_activated_guardian_or_an_unknown_one_is_not_invited(db, town):
    admin = town.login(town.admin)
    first = db.value("SELECT id FROM guardians WHERE user_id = ?", [_user(db, town.parent_a)])
    before = snapshot(db)
    with pytest.raises(InvalidInput, match="déjà activé son compte"):
        accounts.invite_guardian(db, admin, first, DEMO_NOW)
    with pytest.raises(NotFound):
        accounts.invite_guardian(db, admin, 9999, DEMO_NOW)
    assert snapshot(db) == before


def test_a_family_cannot_invite_a_guardian_of_its_own_file_or_another(db, town):
    mine = _guardian(db, town.family_a, "marc.aubert@exemple.fr")
    theirs = _guardian(db, town.family_b, "berthe.besson@exemple.fr", "Berthe", "Besson")
    parent = town.login(town.parent_a)
    before = snapshot(db)
    for guardian in (mine, theirs, 9999):
        with pytest.raises(NotAllowed):
            accounts.invite_guardian(db, parent, guardian, DEMO_NOW)
    with pytest.raises(NotAllowed):
        accounts.invite_all_pending(db, parent, DEMO_NOW)
    with pytest.raises(NotAllowed):
        accounts.family_guardians(db, parent, town.family_a)
    assert snapshot(db) == before


def test_every_pending_guardian_is_invited_at_once_and_a_taken_address_is_said(db, town):
    _guardian(db, town.family_a, "marc.aubert@exemple.fr")
    _guardian(db, town.family_b, "famille01@petite-ville.test", "Berthe", "Besson")
    _new_family_account(db, town)  # invited already: not again
    done = accounts.invite_all_pending(db, town.login(town.admin), DEMO_NOW)
    assert done.sent == 1 and len(done.skipped) == 1 and done.skipped[0].startswith("Berthe Besson (famille01@")
    assert [to for _, to, _ in _mails(db, "invitation")] == ["nouveau.parent@exemple.fr", "marc.aubert@exemple.fr"]
    assert accounts.invite_all_pending(db, town.login(town.admin), DEMO_NOW).sent == 0


def test_inviting_everyone_without_the_public_address_writes_nothing(town):
    _guardian(town.db, town.family_a, "marc.aubert@exemple.fr")
    admin = town.login(town.admin)
    before = snapshot(town.db)
    with pytest.raises(InvalidInput, match="public_url"):
        accounts.invite_all_pending(town.db, admin, DEMO_NOW)
    assert snapshot(town.db) == before and town.db.value("SELECT count(*) FROM guardians WHERE user_id IS NULL") == 1


def test_a_confirmed_address_becomes_the_guardians_too(db, town):
    accounts.request_email_change(db, town.login(town.parent_a), TOWN_PASSWORD, "anne@exemple.fr", DEMO_NOW, IP)
    accounts.confirm_email_change(db, _token(db, "email_change"), DEMO_NOW)
    assert db.value("SELECT email FROM guardians WHERE user_id = ?", [_user(db, "anne@exemple.fr")]) == (
        "anne@exemple.fr"
    )


def test_an_invited_account_may_also_choose_its_password_through_a_reset(db, town):
    user_id = _new_family_account(db, town)
    accounts.request_reset(db, "nouveau.parent@exemple.fr", DEMO_NOW, IP)
    invitation = _token(db, "invitation")
    assert accounts.reset(db, _token(db, "password_reset"), NEW_PASSWORD, NEW_PASSWORD, DEMO_NOW, IP)
    assert db.value("SELECT activated_at FROM users WHERE id = ?", [user_id]) is not None
    with pytest.raises(LinkRefused):  # the invitation's link is void now
        accounts.activate(db, invitation, NEW_PASSWORD, NEW_PASSWORD, DEMO_NOW, IP)
    assert accounts.not_activated(db, town.login(town.admin)) == []
