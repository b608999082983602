"""The seed's guide (part 1, « Les inscriptions »), followed in Chromium on a phone (390 px) from
the home's shortcut, never the side menu: register, weekly template, Appliquer, Confirmer,
reload, then a cancellation inside the deadline that is refused with its limit; and the
occasional days' month table."""

import re

import pytest

from tests.browser.conftest import login, settle

pytestmark = pytest.mark.browser


def from_home(page):
    """The home's « Mes inscriptions » shortcut, as a parent on a phone would (the menu stays shut)."""
    page.get_by_role("heading", name=re.compile("Bonjour"), level=1).wait_for()
    settle(page)
    page.locator(".st-key-home_shortcuts").get_by_role("button", name="Mes inscriptions").click()
    page.get_by_role("heading", name=re.compile("Réservations de")).wait_for()
    assert page.get_by_test_id("stSidebar").get_attribute("data-collapsed") == "true"


def open_reservations(page, server):
    page.goto(server + "/mes-inscriptions")
    page.get_by_role("heading", name=re.compile("Réservations de")).wait_for()


def choose(page, label, option):
    settle(page)
    page.get_by_label(label).click()
    page.get_by_role("option", name=option).click()
    settle(page)


def click(page, name):
    settle(page)
    page.get_by_role("button", name=name, exact=True).click()
    settle(page)


def calendar_frame(page, month_title):
    # While Streamlit swaps months, the old calendar frame lingers with height 0: take the visible one.
    settle(page)
    frame = page.locator("iframe[title='streamlit_calendar.calendar'] >> visible=true").content_frame
    frame.locator(".fc-toolbar-title", has_text=month_title).wait_for()
    return frame


def test_the_seed_guide_weekly_template_then_a_late_cancellation(server, page, tmp_path):
    login(page, server, "parent@demo.fr")
    page.get_by_text("Bonjour Camille Martin").wait_for()
    from_home(page)

    # Register Léa for Wednesdays at ALAE anim'action (she had only school-day meals).
    choose(page, "Enfant", "Léa Martin")
    page.get_by_role("heading", name="Réservations de Léa").wait_for()
    settle(page)
    page.get_by_text("Inscrire mon enfant ou modifier son inscription").click()
    choose(page, "Structure", "ALAE anim'action")
    page.locator(".st-key-reg_1_3_2 label").click()  # Léa, anim'action, Mercredi repas
    settle(page)
    click(page, "Enregistrer l'inscription")
    page.get_by_text("Inscription de Léa à « ALAE anim'action » enregistrée pour 2026/2027.").wait_for()

    # Hugo: weekly template Monday, Tuesday, Friday for "Restauration scolaire".
    choose(page, "Enfant", "Hugo Martin")
    page.get_by_role("heading", name="Réservations de Hugo").wait_for()
    click(page, "▶")  # December 2026
    frame = calendar_frame(page, "Décembre 2026")
    thursday = frame.locator('.fc-daygrid-day[data-date="2026-12-10"]')
    assert "Cantine" in thursday.inner_text()
    click(page, "Modification")
    # The editor opens on Hugo's weeks (meals Monday, Tuesday, Thursday, Friday; both Wednesday
    # services): for Monday, Tuesday and Friday as in the guide, Thursday is unticked.
    for day in ("lundi", "mardi", "jeudi", "vendredi"):
        assert page.locator(f".st-key-booking_template_{day}_cantine input").is_checked()
    page.locator(".st-key-booking_template_jeudi_cantine label").click()
    settle(page)
    click(page, "Appliquer")
    page.get_by_text("Aperçu de la semaine type").wait_for()
    preview = page.locator(".st-key-resa_preview_box").inner_text()
    assert "rien n'est encore enregistré" in preview and "Vacances de Noël" in preview
    # Every day that changes is listed by month; the Wednesday services are left as they are.
    assert "jeu. 10/12" in preview and "Juin 2027" in preview
    assert "« Mercredi repas » : inchangé" in preview
    # The calendar turns colour before anything is saved: Thursdays will be cancelled.
    frame = calendar_frame(page, "Décembre 2026")
    frame.locator('.fc-daygrid-day[data-date="2026-12-10"] .state-to_cancel').wait_for()
    page.screenshot(path=str(tmp_path / "apercu-semaine-type.png"), full_page=True)
    click(page, "Confirmer")
    page.get_by_text(re.compile("Réservations enregistrées : .*annulé")).wait_for()

    page.reload()
    open_reservations(page, server)
    choose(page, "Enfant", "Hugo Martin")
    page.get_by_role("heading", name="Réservations de Hugo").wait_for()
    click(page, "▶")
    frame = calendar_frame(page, "Décembre 2026")
    frame.locator('.fc-daygrid-day[data-date="2026-12-10"] .state-cancelled').wait_for()
    frame.locator('.fc-daygrid-day[data-date="2026-12-07"] .state-booked').wait_for()

    # Cancel Monday 30 November: too late (2 working days before, limit Thursday 26 at 23:59).
    click(page, "◀")
    frame = calendar_frame(page, "Novembre 2026")
    frame.locator('.fc-daygrid-day[data-date="2026-11-30"] .fc-event').click()
    settle(page)
    click(page, "Annuler ce jour")
    refusal = page.get_by_text(re.compile("Annulation impossible pour le lundi 30 novembre 2026"))
    refusal.wait_for()
    assert "la limite était le jeudi 26 novembre 2026 à 23 h 59" in refusal.inner_text()


def test_occasional_days_in_the_month_calendar_at_390(server, page, tmp_path):
    """« Jours occasionnels »: a month table in day order on a phone; a day cancelled from the day
    panel stays cancelled when the table opens; a click on the calendar ticks its day."""
    login(page, server, "famille004@demo.fr")
    from_home(page)
    click(page, "▶")  # December 2026
    frame = calendar_frame(page, "Décembre 2026")
    booked = frame.locator('.fc-daygrid-day[data-date="2026-12-10"] .state-booked')
    if not booked.count():  # make sure the Thursday is booked to begin with
        frame.locator('.fc-daygrid-day[data-date="2026-12-10"] .fc-event').first.click()
        settle(page)
        click(page, "Réserver ce jour")
        frame = calendar_frame(page, "Décembre 2026")
    frame.locator('.fc-daygrid-day[data-date="2026-12-10"] .state-booked').first.click()
    settle(page)
    click(page, "Annuler ce jour")
    panel = page.locator(".st-key-resa_day_panel")
    panel.get_by_text(re.compile(r"annulé\(s\) \(jeu\. 10/12")).wait_for()  # said where the tap was

    click(page, "Modification")
    page.get_by_text("Jours occasionnels", exact=True).click()
    settle(page)
    grid = page.locator(".st-key-resa_month_grid")
    grid.wait_for()
    box = page.locator(".st-key-booking_day_cantine_2026-12-10 input")
    assert not box.is_checked()  # opens on what is stored: cancelled
    # Weeks in rows, Monday to Sunday, in day order on the phone: each day right of the one before.
    x = {
        d: page.locator(f".st-key-booking_day_cantine_2026-12-{d:02d}").bounding_box()
        for d in (7, 8, 10, 11)
        if page.locator(f".st-key-booking_day_cantine_2026-12-{d:02d}").count()
    }
    days = sorted(x)
    assert all(x[a]["x"] < x[b]["x"] and abs(x[a]["y"] - x[b]["y"]) < 5 for a, b in zip(days, days[1:]))
    # A tap on the calendar's Thursday ticks it in the table.
    frame = calendar_frame(page, "Décembre 2026")
    frame.locator('.fc-daygrid-day[data-date="2026-12-10"] .fc-event').first.click()
    settle(page)
    assert box.is_checked()
    page.get_by_text("À réserver : jeudi 10 décembre 2026").wait_for()
    page.screenshot(path=str(tmp_path / "jours-occasionnels-390.png"), full_page=True)
    click(page, "Confirmer")
    page.get_by_text(re.compile(r"1 jour\(s\) réservé\(s\) \(jeu\. 10/12\)")).wait_for()
    page.reload()
    open_reservations(page, server)
    click(page, "▶")
    frame = calendar_frame(page, "Décembre 2026")
    frame.locator('.fc-daygrid-day[data-date="2026-12-10"] .state-booked').wait_for()
