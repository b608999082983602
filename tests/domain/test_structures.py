"""The checks of what an administrator types to set a town up (lib/domain/structures.py), and the
journal's sentences for those changes."""

import pytest

from lib.domain.errors import InvalidInput
from lib.domain.journal import KINDS, Entry, sentence
from lib.domain.structures import (
    SiteKind,
    diet_code,
    service_code,
    site_kind,
    text_field,
    weekdays,
    weekdays_text,
)


def test_weekdays_are_school_days_sorted_once():
    assert weekdays([5, 1, 2, 1]) == (1, 2, 5)
    assert weekdays_text((1, 2, 4, 5)) == "lundi, mardi, jeudi, vendredi"
    for bad in ([], [0], [6], [7], ["1"], [True], [1.0], "12"):
        with pytest.raises(InvalidInput, match="Jours de la semaine"):
            weekdays(bad)


@pytest.mark.parametrize("good", ["cantine", "accueil-soir", "a1", "x" * 30])
def test_a_service_code_is_lowercase_letters_digits_and_hyphens(good):
    assert service_code(f" {good} ") == good


@pytest.mark.parametrize("bad", ["", "-cantine", "Cantine", "cantine_midi", "cantine midi", "x" * 31, None, 12, "é"])
def test_a_bad_service_code_is_refused_in_french(bad):
    with pytest.raises(InvalidInput, match="Code de la prestation : lettres minuscules"):
        service_code(bad)


def test_diet_codes_may_keep_the_underscore_of_the_existing_ones():
    assert diet_code("sans_porc") == "sans_porc"
    for bad in ("Sans porc", "", "_x", None):
        with pytest.raises(InvalidInput, match="Code du régime"):
            diet_code(bad)


def test_site_kinds_and_texts():
    assert site_kind("mercredi") is SiteKind.MERCREDI and site_kind(SiteKind.MATERNELLE) is SiteKind.MATERNELLE
    for bad in ("lycee", "Mercredi", None, 1):
        with pytest.raises(InvalidInput, match="Type de structure inconnu : choisissez école maternelle"):
            site_kind(bad)
    assert text_field("  École   des  Pins ", "Nom", 80) == "École des Pins"
    assert text_field(None, "Adresse", 10, required=False) == ""
    with pytest.raises(InvalidInput, match="Nom : ce champ est obligatoire"):
        text_field(" ", "Nom", 80)
    with pytest.raises(InvalidInput, match="Nom : 3 caractères au plus"):
        text_field("abcd", "Nom", 3)


@pytest.mark.parametrize(
    "entry, expected",
    [
        (
            Entry("school_year.open", "school_year", "2026", after={"label": "2026/2027"}),
            "A ouvert l'année scolaire 2026/2027",
        ),
        (Entry("site.create", "site", "3", after={"name": "École des Pins"}), "A créé la structure « École des Pins »"),
        (
            Entry("site.update", "site", "3", before={"name": "École A"}, after={"name": "École B"}),
            "A renommé la structure « École A » en « École B »",
        ),
        (
            Entry("site.update", "site", "3", before={"name": "École A"}, after={"name": "École A"}),
            "A modifié la structure « École A »",
        ),
        (Entry("site.delete", "site", "3", before={"name": "Annexe"}), "A supprimé la structure « Annexe »"),
        (Entry("site.delete", "site", "3", before="illisible"), "A supprimé la structure n° 3"),
        (Entry("service.create", "service", "4", after={"name": "Garderie"}), "A créé la prestation « Garderie »"),
        (
            Entry(
                "site_service.create", "site_service", "1:4", after={"capacity": 20}, site="Centre", service="Garderie"
            ),
            "A ajouté Centre — Garderie (20 place(s) par jour)",
        ),
        (Entry("diet.create", "diet", "halal", after={"label": "Halal"}), "A ajouté le régime « Halal »"),
    ],
)
def test_the_town_setup_reads_in_the_journal(entry, expected):
    assert sentence(entry) == expected


def test_the_journal_filters_the_town_setup_changes():
    assert KINDS["Structures, années scolaires et régimes"] == ("school_year.", "site.", "diet.")
    assert "site_service." in KINDS["Prestations, tarifs et capacités"]
