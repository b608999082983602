"""« Mes inscriptions » › « Calendrier du téléphone » through AppTest, on the demo town: the link is
shown once, right after it is made; afterwards only « Remplacer » and « Supprimer »."""

import re

import pytest

from lib.services import calendar_feeds
from tests.conftest import DEMO_NOW
from tests.helpers import app_test, texts

PUBLIC = "https://famille.ma-ville.fr"
ADDRESS = re.compile(r"^https://famille\.ma-ville\.fr/calendrier/[A-Za-z0-9_-]{43}\.ics$")


@pytest.fixture
def db(demo_db, monkeypatch):
    monkeypatch.delenv("PORTAIL_PUBLIC_URL", raising=False)
    demo_db.write(lambda cur: cur.execute("INSERT INTO settings VALUES ('public_url', ?)", [PUBLIC]))
    return demo_db


def page(db):
    at = app_test("pages/mes_inscriptions.py", db, "parent@demo.fr").run()
    assert not at.exception, at.exception
    return at, at.selectbox(key="resa_child").value


def keys(at) -> set[str]:
    return {b.key for b in at.button if b.key and b.key.startswith("feed_")}


def test_create_shows_the_address_once_then_only_replace_and_delete(db):
    at, child = page(db)
    assert keys(at) == {f"feed_create_{child.id}"}
    assert "Réglages › Calendrier › Comptes" in texts(at) and "« À partir de l'URL »" in texts(at)
    at.button(key=f"feed_create_{child.id}").click().run()
    assert not at.exception, at.exception
    https, webcal = (c.value for c in at.code)
    assert ADDRESS.match(https), https
    assert webcal == "webcal://" + https.removeprefix("https://")
    assert "Copiez-le maintenant" in texts(at) and "pas encore lu par un calendrier" in texts(at)
    assert keys(at) == {f"feed_replace_{child.id}", f"feed_revoke_{child.id}"}
    # The address works: it is the one the family's phone will read.
    token = https.rsplit("/", 1)[1].removesuffix(".ics")
    assert calendar_feeds.ics(db, token, DEMO_NOW).startswith(b"BEGIN:VCALENDAR")
    at.run()  # any later run: the address is gone for good
    assert not at.exception
    assert [c.value for c in at.code] == []
    assert keys(at) == {f"feed_replace_{child.id}", f"feed_revoke_{child.id}"}
    assert "lu par le calendrier le 27/11/2026" in texts(at)  # the read just above


def test_replace_shows_a_new_address_and_the_old_one_stops(db):
    at, child = page(db)
    at.button(key=f"feed_create_{child.id}").click().run()
    old = at.code[0].value.rsplit("/", 1)[1].removesuffix(".ics")
    at.button(key=f"feed_replace_{child.id}").click().run()
    assert not at.exception, at.exception
    new = at.code[0].value.rsplit("/", 1)[1].removesuffix(".ics")
    assert new != old
    assert calendar_feeds.ics(db, old, DEMO_NOW) is None and calendar_feeds.ics(db, new, DEMO_NOW) is not None


def test_delete_stops_the_link_and_offers_to_create_one_again(db):
    at, child = page(db)
    at.button(key=f"feed_create_{child.id}").click().run()
    token = at.code[0].value.rsplit("/", 1)[1].removesuffix(".ics")
    at.button(key=f"feed_revoke_{child.id}").click().run()
    assert not at.exception, at.exception
    assert "Lien supprimé" in texts(at)
    assert keys(at) == {f"feed_create_{child.id}"}
    assert calendar_feeds.ics(db, token, DEMO_NOW) is None


def test_without_a_public_address_the_refusal_is_shown_in_french_and_nothing_is_written(db):
    db.write(lambda cur: cur.execute("DELETE FROM settings WHERE key = 'public_url'"))
    at, child = page(db)
    at.button(key=f"feed_create_{child.id}").click().run()
    assert not at.exception, at.exception
    assert any("adresse publique du portail" in e.value for e in at.error)
    assert [c.value for c in at.code] == []
    assert db.value("SELECT count(*) FROM calendar_feeds") == 0
    assert keys(at) == {f"feed_create_{child.id}"}
