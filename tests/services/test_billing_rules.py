"""Issue 16's billing rules on the small town: a child present without a booking, a PAI packed lunch,
dated tariffs (a month straddling a decision, published months never re-priced), the non-resident
price, closures and strikes never billed, and the minimum for public recovery (carried over, never a
cent lost, never blocking a credit note)."""

from datetime import date, datetime, time, timedelta

import pytest

from lib.domain.clock import PARIS
from lib.domain.deadlines import DeadlineRule
from lib.domain.errors import InvalidInput, NotAllowed, NotFound
from lib.domain.families import QfSource, QuotientInput
from lib.domain.invoicing import Bracket
from lib.services import attendance, families, health, invoicing, settings, tariffs
from lib.services import reservations as r
from lib.store import invoices as invoicing_store
from tests.conftest import DEMO_NOW, booked_days
from tests.helpers import forget_invoices, set_base_tariffs, sorted_rows

NOVEMBER, DECEMBER = date(2026, 11, 1), date(2026, 12, 1)
AFTER_NOVEMBER = datetime(2026, 12, 3, 9, 0, tzinfo=PARIS)
AFTER_DECEMBER = datetime(2027, 1, 4, 9, 0, tzinfo=PARIS)
THURSDAYS = [date(2026, 11, 12), date(2026, 11, 19)]  # Adrien eats at the canteen on Mondays, Tuesdays, Fridays


def decide(town, service_id, valid_from, unit="3,50", grid=(), unbooked="", basket="", outside="", reference=""):
    return tariffs.add_decision(
        town.db,
        town.login(town.admin),
        service_id,
        valid_from=valid_from,
        reference=reference,
        unit_price=unit,
        grid=list(grid),
        unbooked_price=unbooked,
        basket_price=basket,
        non_resident_price=outside,
        now=DEMO_NOW,
    )


def lines(db, family_id, month):
    """(child, label, quantity, unit price, amount) of a family's documents of a month, in order."""
    return db.rows(
        "SELECT l.child_id, l.label, l.quantity, l.unit_price_cents, l.amount_cents FROM invoice_lines l "
        "JOIN invoices i ON i.id = l.invoice_id WHERE i.family_id = ? AND i.period_month = ? ORDER BY i.id, l.line_no",
        [family_id, month],
    )


def documents(db):
    return (
        db.rows("SELECT * FROM invoices ORDER BY id"),
        sorted_rows(db, "SELECT * FROM invoice_lines"),
        sorted_rows(db, "SELECT * FROM carried_lines"),
        sorted_rows(db, "SELECT * FROM tariff_decisions"),
        sorted_rows(db, "SELECT * FROM tariff_decision_brackets"),
        db.rows("SELECT key, value FROM settings ORDER BY key"),
    )


@pytest.fixture(autouse=True)
def credit_notes_always_correct_an_invoice(town):
    """After every scenario: a credit note is deducted from the invoice it corrects, so none without one."""
    yield
    assert town.db.rows("SELECT number FROM invoices WHERE kind = 'credit_note' AND corrects_invoice_id IS NULL") == []


def present(town, days, child=None):
    agent = town.login(town.agent)
    for day in days:
        attendance.save(town.db, agent, day, town.school, town.canteen, {child or town.child_a2: "present"}, DEMO_NOW)


# --- present without a booking ---------------------------------------------------------------------


def test_a_child_present_without_a_booking_is_billed_on_its_own_line_at_its_own_price(town):
    db, admin = town.db, town.login(town.admin)
    decide(town, town.canteen, NOVEMBER, unbooked="4,20")
    present(town, THURSDAYS)
    present(town, booked_days(db, town.child_a2, town.canteen, NOVEMBER, date(2026, 11, 30))[:2])  # booked: a meal
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    adrien = [line for line in lines(db, town.family_a, NOVEMBER) if line[0] == town.child_a2]
    booked = len(booked_days(db, town.child_a2, town.canteen, NOVEMBER, date(2026, 11, 30)))
    assert adrien[0] == (town.child_a2, "Adrien — Restauration scolaire (novembre 2026)", booked, 350, booked * 350)
    assert (town.child_a2, "Adrien — Repas non réservé — Restauration scolaire (novembre 2026)", 2, 420, 840) in adrien


def test_a_town_may_choose_not_to_bill_a_child_present_without_a_booking(town):
    db, admin = town.db, town.login(town.admin)
    decide(town, town.canteen, NOVEMBER, unbooked="")
    present(town, THURSDAYS)
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    assert not [line for line in lines(db, town.family_a, NOVEMBER) if "non réservé" in line[1]]


# --- PAI packed lunch ---------------------------------------------------------------------------------


def basket_for_alice(town):
    health.save_health(town.db, town.login(town.admin), town.child_a, {"has_pai": True, "meal_basket": True}, DEMO_NOW)


def test_a_pai_packed_lunch_is_billed_at_its_own_reduced_price_not_the_full_meal(town):
    db, admin = town.db, town.login(town.admin)
    decide(town, town.canteen, NOVEMBER, basket="1,20")
    basket_for_alice(town)
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    alice = [line for line in lines(db, town.family_a, NOVEMBER) if line[0] == town.child_a]
    days = len(booked_days(db, town.child_a, town.canteen, NOVEMBER, date(2026, 11, 30)))
    assert alice == [
        (town.child_a, "Alice — Repas panier (PAI) — Restauration scolaire (novembre 2026)", days, 120, days * 120)
    ]
    # The invoice knows « panier repas », nothing else of her health file.
    assert "allerg" not in " ".join(line[1] for line in lines(db, town.family_a, NOVEMBER)).lower()


def test_until_the_town_sets_its_price_a_packed_lunch_is_billed_as_a_meal_and_at_0_it_is_free(town):
    db, admin = town.db, town.login(town.admin)
    basket_for_alice(town)
    decide(town, town.canteen, date(2026, 11, 16), basket="0,00")
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    alice = [line[1:] for line in lines(db, town.family_a, NOVEMBER) if line[0] == town.child_a]
    days = booked_days(db, town.child_a, town.canteen, NOVEMBER, date(2026, 11, 30))
    before = len([d for d in days if d < date(2026, 11, 16)])
    assert alice == [
        ("Alice — Restauration scolaire (novembre 2026)", before, 350, before * 350),
        (
            "Alice — Repas panier (PAI) — Restauration scolaire (novembre 2026) — tarif au 16/11/2026",
            len(days) - before,
            0,
            0,
        ),
    ]


# --- dated tariffs --------------------------------------------------------------------------------------


def test_a_month_straddling_a_decision_gets_a_line_per_tariff(town):
    db, admin = town.db, town.login(town.admin)
    said = decide(town, town.canteen, date(2026, 11, 16), unit="4,00", reference="Délibération n° 2026-45")
    assert said == "Nouveau tarif enregistré : il s'applique aux repas à partir du 16/11/2026."
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    days = booked_days(db, town.child_a, town.canteen, NOVEMBER, date(2026, 11, 30))
    before = len([d for d in days if d < date(2026, 11, 16)])
    alice = [line for line in lines(db, town.family_a, NOVEMBER) if line[0] == town.child_a]
    assert alice == [
        (town.child_a, "Alice — Restauration scolaire (novembre 2026)", before, 350, before * 350),
        (
            town.child_a,
            "Alice — Restauration scolaire (novembre 2026) — tarif au 16/11/2026",
            len(days) - before,
            400,
            (len(days) - before) * 400,
        ),
    ]
    assert 0 < before < len(days)
    history = tariffs.history(db, admin, town.canteen)
    assert [(t.valid_from, t.unit_price_cents, t.reference) for t in history] == [
        (None, 350, ""),
        (date(2026, 11, 16), 400, "Délibération n° 2026-45"),
    ]


def test_a_later_tariff_never_reprices_an_issued_invoice_nor_makes_a_credit_note(town):
    db, admin = town.db, town.login(town.admin)
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    issued = documents(db)[:2]
    decide(town, town.canteen, DECEMBER, unit="9,00", grid=[("600", "1,00"), (None, "9,50")], outside="12,00")
    again = invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER + timedelta(days=1))
    assert again.numbers == [] and documents(db)[:2] == issued
    assert invoicing.draft_month(db, admin, NOVEMBER, AFTER_NOVEMBER).documents == []
    # December is priced by it.
    invoicing.publish_month(db, admin, DECEMBER, AFTER_DECEMBER)
    assert {line[3] for line in lines(db, town.family_a, DECEMBER) if line[0] == town.child_a} == {100}  # QF 600


def test_a_decision_before_a_published_month_or_unreadable_is_refused_and_nothing_written(town):
    db = town.db
    before = documents(db)
    refusals = db.value("SELECT count(*) FROM audit_log WHERE action = 'tariff.decision_refused'")
    cases = [
        ({"valid_from": date(2026, 10, 20)}, "ne peut s'appliquer qu'à partir du dimanche 1 novembre 2026"),
        ({"valid_from": NOVEMBER, "unit": "-3,50"}, "Prix illisible"),
        ({"valid_from": NOVEMBER, "unit": "trois euros"}, "Prix illisible"),
        ({"valid_from": NOVEMBER, "unit": "350,00"}, "Prix unitaire : montant impossible"),
        ({"valid_from": NOVEMBER, "basket": "-1"}, r"Prix d'un repas panier \(PAI\) : Prix illisible"),
        ({"valid_from": NOVEMBER, "grid": [("abc", "2,00")]}, "Tarif illisible : saisissez un plafond entier"),
        ({"valid_from": "2026-12-01"}, "Date d'effet illisible"),
        ({"valid_from": NOVEMBER, "reference": "x" * 201}, "trop longue"),
    ]
    for typed, message in cases:
        with pytest.raises(InvalidInput, match=message):
            decide(town, town.canteen, **typed)
    decide(town, town.canteen, date(2027, 1, 1))
    with pytest.raises(InvalidInput, match="s'applique déjà à partir du vendredi 1 janvier 2027"):
        decide(town, town.canteen, date(2027, 1, 1))
    after = documents(db)
    assert after[:3] == before[:3] and len(after[3]) == len(before[3]) + 1
    assert db.value("SELECT count(*) FROM audit_log WHERE action = 'tariff.decision_refused'") == refusals + 9
    assert db.value("SELECT count(*) FROM audit_log WHERE action = 'tariff.decide'") == 1


def test_only_the_administrator_decides_a_tariff_and_an_unknown_service_is_not_found(town):
    for who in (town.parent_a, town.agent):
        with pytest.raises(NotAllowed):
            tariffs.add_decision(
                town.db,
                town.login(who),
                town.canteen,
                valid_from=DECEMBER,
                reference="",
                unit_price="1,00",
                grid=[],
                unbooked_price="",
                basket_price="",
                non_resident_price="",
                now=DEMO_NOW,
            )
        with pytest.raises(NotAllowed):
            tariffs.history(town.db, town.login(who), town.canteen)
    for unknown in (999, "1", None, True):
        with pytest.raises(NotFound, match=r"Prestation introuvable\."):
            decide(town, unknown, DECEMBER)
        with pytest.raises(NotFound, match=r"Prestation introuvable\."):
            tariffs.history(town.db, town.login(town.admin), unknown)


# --- non-resident price ------------------------------------------------------------------------------


def test_a_family_outside_the_town_pays_the_non_resident_price_instead_of_the_qf_grid(town):
    db, admin = town.db, town.login(town.admin)
    decide(town, town.wednesday_meal, NOVEMBER, unit="4,00", grid=[("600", "1,00"), (None, "4,00")], outside="6,50")
    file = families.family_file(db, admin, town.family_b).family
    families.update_family(
        db, admin, town.family_b, file.name, file.town_ref, file.billing, DEMO_NOW, non_resident=True
    )
    assert families.family_file(db, admin, town.family_b).family.non_resident
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    prices = {line[1]: line[3] for line in lines(db, town.family_b, NOVEMBER)}
    assert prices["Basile — Mercredi repas (novembre 2026)"] == 650
    assert prices["Basile — Mercredi après-midi (novembre 2026)"] == 800  # no non-resident price: its grid
    with pytest.raises(InvalidInput, match="Hors commune"):
        families.update_family(
            db, admin, town.family_b, file.name, file.town_ref, file.billing, DEMO_NOW, non_resident="oui"
        )


# --- closures and strikes -----------------------------------------------------------------------------


def test_nothing_is_billed_on_a_closure_or_a_strike_present_without_a_booking_included(town):
    db, admin = town.db, town.login(town.admin)
    decide(town, town.canteen, NOVEMBER, unbooked="4,20", basket="1,20")
    strike = [date(2026, 11, 19), date(2026, 11, 20)]  # a Thursday and a Friday
    assert booked_days(db, town.child_a, town.canteen, strike[0], strike[1]) == strike
    assert booked_days(db, town.child_a2, town.canteen, strike[0], strike[1]) == strike[1:]
    present(town, THURSDAYS)  # Adrien came both Thursdays without a booking, the 19th a strike day
    basket_for_alice(town)  # Alice's days are packed lunches
    # The strike is stored as the closures' store keeps it, declared after the bookings (a declaration
    # through the service would cancel them too: the month's SQL must not rely on it).
    db.write(
        lambda cur: cur.execute(
            "INSERT INTO closures (site_id, service_id, start_date, end_date, reason, kind) VALUES (NULL, ?, ?, ?, ?, ?)",
            [town.canteen, strike[0], strike[1], "grève des agents", "greve"],
        )
    )
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    quantities = {
        (line[0], line[1].split(" (")[0].split(" — ", 1)[1]): line[2] for line in lines(db, town.family_a, NOVEMBER)
    }

    def days(child):
        return len(booked_days(db, child, town.canteen, NOVEMBER, date(2026, 11, 30)))

    assert quantities == {
        (town.child_a, "Repas panier"): days(town.child_a) - 2,  # « Repas panier (PAI) — … »
        (town.child_a2, "Restauration scolaire"): days(town.child_a2) - 1,
        (town.child_a2, "Repas non réservé — Restauration scolaire"): 1,
        (town.child_a2, "Mercredi repas"): quantities[(town.child_a2, "Mercredi repas")],
        (town.child_a2, "Mercredi après-midi"): quantities[(town.child_a2, "Mercredi après-midi")],
    }


# --- the minimum for public recovery --------------------------------------------------------------------


def set_minimum(town, typed):
    return invoicing.set_minimum(town.db, town.login(town.admin), typed, DEMO_NOW)


def late_day(town, child, day, booked):
    agent = town.login(town.agent)
    context = r.booking_context(town.db, agent, child, town.school_year)
    r.set_day(town.db, agent, context, town.canteen, day, booked, AFTER_NOVEMBER, late=True, reason="oubli")


def test_a_month_below_the_minimum_is_carried_over_to_the_next_invoice_without_losing_a_cent(town):
    db, admin = town.db, town.login(town.admin)
    assert set_minimum(town, "40,00") == "Seuil de mise en recouvrement enregistré : 40,00\u00a0€."
    draft = invoicing.draft_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    [held] = draft.carried  # Basile's November: three Wednesdays, meal and afternoon
    assert (held.family, held.total_cents, held.months) == ("Famille Besson", 3 * (400 + 800), [NOVEMBER])
    assert held.why(draft.minimum_cents) == (
        "36,00\u00a0€, sous le seuil de mise en recouvrement de 40,00\u00a0€ : reporté sur la prochaine facture "
        "(novembre 2026)."
    )
    published = invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    assert published.carried == 1 and len(published.numbers) == 1 == len(draft.documents)
    assert "1 montant(s) sous le seuil de mise en recouvrement reporté(s)" in published.summary()
    assert lines(db, town.family_b, NOVEMBER) == []
    carried = db.value("SELECT sum(amount_cents) FROM carried_lines WHERE family_id = ?", [town.family_b])
    assert carried == 3600
    # Publishing again carries nothing twice; the month's page says its lines were carried.
    assert invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER).numbers == []
    again = invoicing.draft_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    assert again.documents == [] and again.carried == [] and again.carried_lines == 2
    assert db.value("SELECT count(*) FROM carried_lines") == 2

    december = invoicing.publish_month(db, admin, DECEMBER, AFTER_DECEMBER)
    assert december.carried == 0
    family_b = db.rows(
        "SELECT l.label, l.amount_cents, l.carried_from FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id "
        "WHERE i.family_id = ? AND i.period_month = ? ORDER BY l.line_no",
        [town.family_b, DECEMBER],
    )
    assert family_b[:2] == [
        ("Report de novembre 2026 : Basile — Mercredi repas (novembre 2026)", 1200, NOVEMBER),
        ("Report de novembre 2026 : Basile — Mercredi après-midi (novembre 2026)", 2400, NOVEMBER),
    ]
    own = sum(amount for _, amount, carried_from in family_b if carried_from is None)
    assert own == 2 * (400 + 800)  # December: two Wednesdays (the 16th closed, the 23rd a holiday)
    total = db.value(
        "SELECT total_cents FROM invoices WHERE family_id = ? AND period_month = ?", [town.family_b, DECEMBER]
    )
    assert total == 3600 + own  # never a cent lost, nor billed twice
    assert db.value("SELECT count(*) FROM carried_lines WHERE settled_invoice_id IS NULL") == 0
    # November, published again, bills nothing of what December billed.
    assert invoicing.draft_month(db, admin, NOVEMBER, AFTER_DECEMBER).documents == []
    assert invoicing.draft_month(db, admin, NOVEMBER, AFTER_DECEMBER).carried == []


def test_a_small_correction_waits_while_a_credit_note_is_never_held_back(town):
    db, admin = town.db, town.login(town.admin)
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    set_minimum(town, "15,00")
    thursday = date(2026, 11, 26)  # Adrien does not eat at the canteen on Thursdays
    late_day(town, town.child_a2, thursday, True)
    added = invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    assert added.numbers == [] and added.carried == 1  # 3,50 € below 15 €: carried
    day = booked_days(db, town.child_a, town.canteen, NOVEMBER, date(2026, 11, 30))[0]
    late_day(town, town.child_a, day, False)
    credited = invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    assert [n[:3] for n in credited.numbers] == ["AV-"] and credited.total_cents == -350


def cancel_basile_late(town, when):
    """An agent cancels one of Basile's November Wednesday meals after the month was published."""
    db, agent = town.db, town.login(town.agent)
    child, service = db.row("SELECT child_id, service_id FROM carried_lines ORDER BY line_no LIMIT 1")
    day = booked_days(db, child, service, NOVEMBER, date(2026, 11, 30))[0]
    context = r.booking_context(db, agent, child, town.school_year)
    r.set_day(db, agent, context, service, day, False, when, late=True, reason="oubli")


def family_b_documents(db, family_id):
    return db.rows(
        "SELECT kind, period_month, total_cents, corrects_invoice_id FROM invoices WHERE family_id = ?"
        " AND period_month >= ? ORDER BY id",
        [family_id, NOVEMBER],
    )


def test_a_credit_on_a_month_entirely_carried_over_waits_with_its_lines_and_the_next_invoice_bills_the_net(town):
    db, admin = town.db, town.login(town.admin)
    set_minimum(town, "40,00")
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)  # Basile's 36 € carried over
    cancel_basile_late(town, AFTER_NOVEMBER)  # one Wednesday meal, 4 €, no longer due
    draft = invoicing.draft_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    [held] = draft.carried
    assert draft.documents == [] and held.total_cents == -400
    assert held.why(draft.minimum_cents) == (
        "-4,00\u00a0€, déduit des montants reportés qu'il corrige : reporté sur la prochaine facture (novembre 2026)."
    )
    again = invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    assert again.numbers == [] and again.carried == 1  # no credit note correcting nothing
    assert db.value("SELECT sum(amount_cents) FROM carried_lines WHERE family_id = ?", [town.family_b]) == 3200
    assert invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER).numbers == []  # carried once

    invoicing.publish_month(db, admin, DECEMBER, AFTER_DECEMBER)
    december = 2 * (400 + 800)
    assert family_b_documents(db, town.family_b) == [("invoice", DECEMBER, 3200 + december, None)]
    assert db.value("SELECT count(*) FROM carried_lines WHERE settled_invoice_id IS NULL") == 0


def test_a_credit_on_a_carried_month_already_billed_later_corrects_the_invoice_that_billed_it(town):
    db, admin = town.db, town.login(town.admin)
    set_minimum(town, "40,00")
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    invoicing.publish_month(db, admin, DECEMBER, AFTER_DECEMBER)  # bills November's 36 € with December's
    [(december_id, december_total)] = db.rows(
        "SELECT id, total_cents FROM invoices WHERE family_id = ? AND period_month = ?", [town.family_b, DECEMBER]
    )
    cancel_basile_late(town, AFTER_DECEMBER)
    credited = invoicing.publish_month(db, admin, NOVEMBER, AFTER_DECEMBER)
    assert [n[:3] for n in credited.numbers] == ["AV-"] and credited.total_cents == -400
    assert family_b_documents(db, town.family_b)[1:] == [("credit_note", NOVEMBER, -400, december_id)]
    summary = invoicing_store.invoice_summary(db, december_id, AFTER_DECEMBER.replace(tzinfo=None))
    assert summary["total_cents"] - summary["credited_cents"] == december_total - 400


def test_a_month_whose_payers_were_all_carried_over_is_invoiced_and_never_re_priced(town):
    db, admin = town.db, town.login(town.admin)
    set_minimum(town, "100,00")
    # the Auberts' November (over 100 €) cancelled: every payer's November is below the minimum
    db.write(lambda cur: cur.execute("DELETE FROM bookings WHERE child_id IN (?, ?)", [town.child_a, town.child_a2]))
    assert tariffs.published_until(db, admin) == NOVEMBER
    published = invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    assert published.numbers == [] and published.carried > 0  # every payer below 100 €: all carried
    carried = sorted_rows(db, "SELECT * FROM carried_lines")
    assert tariffs.published_until(db, admin) == DECEMBER
    with pytest.raises(InvalidInput, match="ne peut s'appliquer qu'à partir du mardi 1 décembre 2026"):
        decide(town, town.canteen, date(2026, 11, 16), unit="9,00")
    assert invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER).numbers == []
    assert sorted_rows(db, "SELECT * FROM carried_lines") == carried


def base_price(town, admin, cents, **deadlines):
    db = town.db
    service = next(s for s in settings.services(db, admin) if s.id == town.canteen)
    rules = {"book": service.deadlines.book, "cancel": service.deadlines.cancel, **deadlines}
    return settings.update_service(db, admin, town.canteen, unit_price_cents=cents, now=AFTER_NOVEMBER, **rules)


def base_tariff(db):
    return db.rows("SELECT * FROM services ORDER BY id"), sorted_rows(db, "SELECT * FROM tariffs")


def test_once_a_month_is_invoiced_the_base_price_and_grid_are_refused_pointing_to_a_dated_tariff(town):
    db, admin = town.db, town.login(town.admin)
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    kept = "SELECT count(*) FROM audit_log WHERE action NOT IN ('service.refused', 'tariff.refused')"
    before, audited = base_tariff(db), db.value(kept)
    refusal = (
        "Le tarif de base ne peut plus être modifié : les mois jusqu'à novembre 2026 sont déjà facturés, et une "
        "facture émise n'est jamais recalculée. Pour un nouveau prix, enregistrez un « Nouveau tarif à partir "
        "d'une date » (délibération), au plus tôt le mardi 1 décembre 2026."
    )
    with pytest.raises(InvalidInput) as price:
        base_price(town, admin, 9900)
    with pytest.raises(InvalidInput) as grid:
        settings.set_tariffs(db, admin, town.canteen, [Bracket(1000, 100), Bracket(None, 500)], AFTER_NOVEMBER)
    assert price.value.message == refusal == grid.value.message
    assert base_tariff(db) == before
    assert db.value(kept) == audited
    assert [a for (a,) in db.rows("SELECT action FROM audit_log WHERE action LIKE '%.refused' ORDER BY id")] == [
        "service.refused",
        "tariff.refused",
    ]
    # Days added late to the invoiced month are billed at the price it was billed at.
    for thursday in (date(2026, 11, 5), date(2026, 11, 12), date(2026, 11, 19), date(2026, 11, 26)):
        late_day(town, town.child_a2, thursday, True)
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    assert lines(db, town.family_a, NOVEMBER)[-1][2:] == (4, 350, 1400)
    # The deadlines and an unchanged price or grid stay editable.
    assert base_price(town, admin, 350, cancel=DeadlineRule(5, False, time(10, 0))).endswith("enregistrés.")
    assert db.value("SELECT cancel_delay_days FROM services WHERE id = ?", [town.canteen]) == 5
    assert settings.set_tariffs(db, admin, town.canteen, [], AFTER_NOVEMBER).endswith("enregistrés.")


def test_before_the_first_invoice_the_base_price_and_grid_may_change(town):
    db, admin = town.db, town.login(town.admin)
    forget_invoices(db)
    base_price(town, admin, 380)
    settings.set_tariffs(db, admin, town.canteen, [Bracket(1000, 100), Bracket(None, 500)], AFTER_NOVEMBER)
    assert db.value("SELECT unit_price_cents FROM services WHERE id = ?", [town.canteen]) == 380
    assert db.rows("SELECT qf_max, price_cents FROM tariffs ORDER BY qf_max") == [(1000, 100), (None, 500)]


def test_days_removed_from_a_line_billed_at_two_prices_are_credited_at_the_prices_billed_latest_first(town):
    db, admin = town.db, town.login(town.admin)
    set_base_tariffs(db, town.canteen, [(1000, 100), (None, 500)])  # the Auberts' QF 600: 1 € a meal
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    families.record_quotient(
        db, admin, town.family_a, QuotientInput(1500, date(2026, 11, 15), QfSource.CAF, "1234567"), AFTER_NOVEMBER
    )
    for thursday in THURSDAYS:  # added late, at November's QF now: 5 €
        late_day(town, town.child_a2, thursday, True)
    invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)

    def adrien_canteen():
        return [
            line[2:]
            for line in lines(db, town.family_a, NOVEMBER)
            if line[0] == town.child_a2 and "Restauration scolaire" in line[1]
        ]

    assert [price for _, price, _ in adrien_canteen()] == [100, 500]
    for day in [*THURSDAYS, date(2026, 11, 30)]:  # three days: the two billed at 5 €, then one at 1 €
        late_day(town, town.child_a2, day, False)
    credited = invoicing.publish_month(db, admin, NOVEMBER, AFTER_NOVEMBER)
    assert credited.total_cents == -(2 * 500 + 100)
    assert adrien_canteen()[2:] == [(-2, 500, -1000), (-1, 100, -100)]


def test_the_minimum_is_15_euros_unless_set_and_a_bad_one_is_refused_in_french(town):
    db = town.db
    before = documents(db)
    refused = db.value("SELECT count(*) FROM audit_log WHERE action = 'setting.refused'")
    for typed, message in [
        ("quinze", "Prix illisible"),
        ("-15", "Prix illisible"),
        ("150,00", "Seuil de mise en recouvrement impossible"),
        (None, "Seuil de mise en recouvrement illisible"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            set_minimum(town, typed)
    assert documents(db) == before
    assert db.value("SELECT count(*) FROM audit_log WHERE action = 'setting.refused'") == refused + 4
    with pytest.raises(NotAllowed):
        invoicing.set_minimum(db, town.login(town.agent), "15,00", DEMO_NOW)
    db.write(lambda cur: cur.execute("DELETE FROM settings WHERE key = 'recovery_minimum_cents'"))
    assert invoicing.minimum_cents(db) == 1500
