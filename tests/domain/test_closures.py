"""What a declaration of closure must say, the (site, service) rows it makes, and its French."""

from datetime import date, datetime

import pytest

from lib.domain.calendar import ClosureKind
from lib.domain.closures import (
    CancelledDay,
    ChildCancellations,
    ClosurePreview,
    ClosureResult,
    Declaration,
    FamilyCancellations,
    check_declaration,
    child_days_text,
    scopes,
)
from lib.domain.errors import InvalidInput
from lib.domain.records import SiteService

OFFERED = [
    SiteService(1, "École des Tilleuls", 1, "Restauration scolaire"),
    SiteService(2, "Centre du mercredi", 2, "Mercredi repas"),
    SiteService(2, "Centre du mercredi", 3, "Mercredi après-midi"),
]
DAY = date(2027, 1, 21)


def test_a_declaration_is_trimmed_and_kept():
    assert check_declaration(DAY, DAY, "greve", "  grève du\npersonnel ") == Declaration(
        DAY, DAY, ClosureKind.STRIKE, "grève du personnel"
    )
    assert check_declaration(date(2026, 9, 1), date(2027, 8, 31), ClosureKind.BRIDGE, "abc").kind is ClosureKind.BRIDGE


@pytest.mark.parametrize(
    "start, end, kind, reason, message",
    [
        (None, DAY, "greve", "grève", "Indiquez le premier et le dernier jour de la fermeture."),
        (DAY, None, "greve", "grève", "Indiquez le premier et le dernier jour de la fermeture."),
        ("2027-01-21", DAY, "greve", "grève", "Dates illisibles : choisissez le premier et le dernier jour"),
        (datetime(2027, 1, 21), DAY, "greve", "grève", "Dates illisibles"),
        (DAY, date(2027, 1, 20), "greve", "grève", "Le dernier jour de la fermeture précède le premier"),
        (date(2026, 9, 1), date(2027, 9, 1), "greve", "grève", "Une fermeture dure au plus un an"),
        (DAY, date(2029, 1, 1), "greve", "grève", "Une fermeture dure au plus un an"),
        (DAY, DAY, "vacances", "grève", "Type inconnu : choisissez fermeture, grève ou pont."),
        (DAY, DAY, None, "grève", "Type inconnu"),
        (DAY, DAY, "greve", "  a ", "Motif trop court : 3 caractères au moins"),
        (DAY, DAY, "greve", None, "Indiquez le motif de la fermeture"),
        (DAY, DAY, "greve", "x" * 201, "Motif trop long : 200 caractères au plus."),
        (DAY, DAY, "greve", "grève\x07", "Motif illisible : saisissez seulement du texte."),
    ],
)
def test_a_bad_declaration_is_refused_in_french(start, end, kind, reason, message):
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_declaration(start, end, kind, reason)


def test_a_year_is_the_longest_closure():
    check_declaration(date(2027, 9, 1), date(2028, 8, 31), "fermeture", "travaux")
    check_declaration(date(2028, 2, 29), date(2029, 2, 28), "fermeture", "travaux")
    for start, end in ((date(2027, 9, 1), date(2028, 9, 1)), (date(2028, 2, 29), date(2029, 3, 1))):
        with pytest.raises(InvalidInput, match="au plus un an"):
            check_declaration(start, end, "fermeture", "travaux")


@pytest.mark.parametrize(
    "sites, services, rows",
    [
        ([], [], [(None, None)]),
        (None, None, [(None, None)]),
        ([2], [], [(2, None)]),
        ([], [1], [(None, 1)]),
        ([2, 1, 2], [], [(1, None), (2, None)]),
        ([1, 2], [1, 2], [(1, 1), (2, 2)]),  # only the pairs the town offers
        ([2], [2, 3], [(2, 2), (2, 3)]),
    ],
)
def test_the_rows_of_a_declaration(sites, services, rows):
    assert scopes(sites, services, OFFERED) == rows


@pytest.mark.parametrize(
    "sites, services, message",
    [
        ([9], [], "Structure inconnue"),
        ([], [9], "Prestation inconnue"),
        ([1], [2], "Aucune des structures choisies ne propose les prestations choisies"),
        ("1", [], "Structures illisibles"),
        ([True], [], "Structures illisibles"),
        ([], [1.0], "Prestations illisibles"),
    ],
)
def test_a_bad_scope_is_refused(sites, services, message):
    with pytest.raises(InvalidInput, match=message):
        scopes(sites, services, OFFERED)


def test_the_preview_and_the_result_read_as_french_sentences():
    assert ClosurePreview(12, 3, 9).sentence == (
        "12 réservations et 3 places en liste d'attente seront annulées pour 9 familles."
    )
    assert ClosurePreview(1, 0, 1).sentence == "1 réservation sera annulée pour 1 famille."
    assert (
        ClosurePreview(0, 0, 0).sentence
        == "Aucune réservation ni place en liste d'attente à annuler sur cette période."
    )
    assert ClosurePreview(0, 2, 1).sentence == "2 places en liste d'attente seront annulées pour 1 famille."
    days = (CancelledDay(1, "Restauration scolaire", DAY, False), CancelledDay(2, "Mercredi repas", DAY, True))
    family = FamilyCancellations(1, "Famille Aubert", (ChildCancellations(1, "Alice", "Aubert", days),))
    result = ClosureResult((4,), Declaration(DAY, DAY, ClosureKind.BRIDGE, "pont"), ("Toutes — x",), (family,))
    assert (result.booked, result.waiting) == (1, 1)
    assert result.sentence == (
        "Pont déclaré le jeudi 21 janvier 2027 (Toutes — x) : 1 réservation et "
        "1 place en liste d'attente annulées pour 1 famille."
    )
    assert child_days_text(days) == (
        "Restauration scolaire le jeudi 21 janvier 2027, Mercredi repas le jeudi 21 janvier 2027 (liste d'attente)"
    )
