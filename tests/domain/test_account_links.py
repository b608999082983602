"""The links of an account's life: their lifetimes, their state at the exact instant, their letters."""

from datetime import datetime, timedelta

import pytest

from lib.domain.account_letters import email_change, email_change_notice, invitation, password_changed, password_reset
from lib.domain.account_links import (
    LinkPurpose,
    LinkState,
    StoredLink,
    account_state,
    expiry,
    link_state,
    requests_wait,
)
from lib.domain.clock import PARIS
from lib.domain.letters import MailKind, Signature, to_html, to_text

MADE = datetime(2026, 11, 27, 8, 30)  # UTC-naive, as stored
URL = "https://famille.ma-ville.fr/auth/activer?jeton=abc"


@pytest.mark.parametrize(
    "purpose, lifetime",
    [
        (LinkPurpose.INVITATION, timedelta(days=7)),
        (LinkPurpose.PASSWORD_RESET, timedelta(hours=1)),
        (LinkPurpose.EMAIL_CHANGE, timedelta(hours=24)),
    ],
)
def test_each_link_works_until_its_lifetime_ends_and_not_at_that_instant(purpose, lifetime):
    link = StoredLink(purpose, 1, None, MADE, expiry(purpose, MADE), None, None)
    assert link.expires_at == MADE + lifetime
    assert link_state(link, MADE + lifetime - timedelta(microseconds=1)) is LinkState.USABLE
    assert link_state(link, MADE + lifetime) is LinkState.EXPIRED
    assert link_state(link, MADE + lifetime + timedelta(seconds=1)) is LinkState.EXPIRED


def test_a_used_link_stays_used_even_after_its_expiry():
    link = StoredLink(LinkPurpose.PASSWORD_RESET, 1, None, MADE, MADE + timedelta(hours=1), MADE, None)
    assert link_state(link, MADE) is LinkState.USED
    assert link_state(link, MADE + timedelta(days=2)) is LinkState.USED


@pytest.mark.parametrize(
    "seconds, words", [(1, "1 minute."), (60, "1 minute."), (61, "2 minutes."), (3600, "60 minutes.")]
)
def test_the_wait_is_said_in_whole_minutes(seconds, words):
    assert requests_wait(seconds).endswith(f"réessayez dans {words}")


def test_link_letters_carry_a_secret_link_and_say_until_when():
    expires = datetime(2026, 12, 4, 9, 30, tzinfo=PARIS)
    for letter, kind in [
        (invitation("Anne Aubert", "anne@exemple.fr", "Ville", URL, expires), MailKind.INVITATION),
        (password_reset("Anne Aubert", URL, expires), MailKind.PASSWORD_RESET),
        (email_change("Anne Aubert", "neuve@exemple.fr", URL, expires), MailKind.EMAIL_CHANGE),
    ]:
        text = to_text(letter, Signature("Ville"))
        assert letter.kind is kind and letter.secret_link and URL in text
        assert "jusqu'au vendredi 4 décembre 2026 à 9 h 30" in text


def test_notices_carry_no_link():
    at = datetime(2026, 12, 4, 9, 30, tzinfo=PARIS)
    for letter in (email_change_notice("Anne", "neuve@exemple.fr", at), password_changed("Anne", at)):
        assert letter.link is None and not letter.secret_link
        assert "vendredi 4 décembre 2026 à 9 h 30" in to_text(letter, Signature("Ville"))


def test_a_name_typed_with_a_line_break_or_markup_stays_on_one_escaped_line():
    letter = password_reset("Anne\nBcc: x@evil.fr <b>", URL, datetime(2026, 12, 4, 9, 30, tzinfo=PARIS))
    assert "Bonjour Anne Bcc: x@evil.fr <b>," in to_text(letter, Signature("Ville"))
    assert "<b>," not in to_html(letter, Signature("Ville"))


INVITED = datetime(2026, 11, 27, 8, 30)  # UTC: 9 h 30 in Paris
UNTIL = INVITED + timedelta(days=7)


@pytest.mark.parametrize(
    "has_account, activated, invited, expires, now, state",
    [
        (False, None, None, None, INVITED, "aucun compte"),
        (True, None, None, None, INVITED, "créé, jamais invité"),
        (
            True,
            None,
            INVITED,
            UNTIL,
            INVITED,
            "invité le 27/11/2026 à 9 h 30, lien valable jusqu'au 04/12/2026 à 9 h 30",
        ),
        (True, None, INVITED, UNTIL, UNTIL, "invité le 27/11/2026 à 9 h 30, lien expiré le 04/12/2026 à 9 h 30"),
        (True, INVITED + timedelta(hours=1), INVITED, UNTIL, UNTIL, "activé le 27/11/2026 à 10 h 30"),
    ],
)
def test_an_account_s_state_as_the_administrator_reads_it(has_account, activated, invited, expires, now, state):
    assert account_state(has_account, activated, invited, expires, now) == state


def test_the_old_address_is_told_that_a_forgotten_password_stops_the_change_at_once():
    at = datetime(2026, 12, 4, 9, 30, tzinfo=PARIS)
    text = to_text(email_change_notice("Anne", "neuve@exemple.fr", at), Signature("Ville"))
    assert "utilisez tout de suite « Mot de passe oublié ? »" in text
    assert "choisir un nouveau mot de passe annule ce changement d'adresse" in text
