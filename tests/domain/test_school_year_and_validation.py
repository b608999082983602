from datetime import date

import pytest

from lib.domain.errors import InvalidInput
from lib.domain.invoicing import Bracket
from lib.domain.school_year import current_and_previous, school_year, start_year_for
from lib.domain.validation import check_password_input, normalize_email, parse_brackets, parse_euros


def test_school_years_follow_the_official_summer_holidays():
    year = school_year(2026, "C")
    assert (year.label, year.start, year.end) == ("2026/2027", date(2026, 9, 1), date(2027, 7, 2))
    current, previous = current_and_previous(date(2026, 11, 27), "C")
    assert current.label == "2026/2027" and previous.label == "2025/2026"
    assert previous.start == date(2025, 9, 1) and previous.end == date(2026, 7, 3)


def test_school_year_outside_the_holiday_data_has_the_usual_shape():
    year = school_year(2031, "C")
    assert year.start.month == 9 and year.start.weekday() < 5
    assert year.end.month == 7 and year.end.weekday() == 4


@pytest.mark.parametrize(
    "day, start_year",
    [(date(2026, 11, 27), 2026), (date(2027, 3, 1), 2026), (date(2027, 7, 20), 2026), (date(2027, 8, 1), 2027)],
)
def test_registration_year(day, start_year):
    assert start_year_for(day) == start_year


@pytest.mark.parametrize("raw, clean", [("Parent@Demo.fr", "parent@demo.fr"), ("  a.b+c@x-y.fr ", "a.b+c@x-y.fr")])
def test_emails_are_normalized(raw, clean):
    assert normalize_email(raw) == clean


@pytest.mark.parametrize(
    "raw, words",
    [
        ("", "Saisissez"),
        (None, "Saisissez"),
        ("   ", "Saisissez"),
        ("a" * 250 + "@x.fr", "trop longue"),
        ("pas une adresse", "invalide"),
        ("a@b", "invalide"),
        ("<script>@x.fr", "invalide"),
        ("x@y.fr\x00", "invalide"),
        ('a"b@x.fr', "invalide"),
        ("jérôme@x.fr", "invalide"),
    ],
)
def test_bad_emails_say_why_in_french(raw, words):
    with pytest.raises(InvalidInput) as err:
        normalize_email(raw)
    assert words in err.value.message


def test_password_input():
    assert check_password_input("demo") == "demo"
    with pytest.raises(InvalidInput, match="Saisissez"):
        check_password_input("")
    with pytest.raises(InvalidInput, match="trop long"):
        check_password_input("x" * 300)


@pytest.mark.parametrize(
    ("typed", "cents"),
    [("3,50", 350), ("3,5", 350), ("3.50", 350), ("12", 1200), (" 4,05 € ", 405), ("1\u202f200,00", 120000), ("0", 0)],
)
def test_prices_typed_the_french_way(typed, cents):
    assert parse_euros(typed) == cents


@pytest.mark.parametrize("typed", ["", None, "3,505", "-1", "3,5O", "trois", "1e3", "3,,5", "1234567"])
def test_prices_that_cannot_be_read_are_refused_in_french(typed):
    with pytest.raises(InvalidInput, match="Prix illisible"):
        parse_euros(typed)


def test_tariff_brackets_typed_in_the_grid():
    grid = [("700", "2,50"), (None, None), (" 1200 ", "3,5 €"), ("", "4,20"), (None, "5")]
    assert parse_brackets(grid) == [Bracket(700, 250), Bracket(1200, 350), Bracket(None, 420), Bracket(None, 500)]
    assert parse_brackets([]) == []


@pytest.mark.parametrize(
    ("grid", "refusal"),
    [
        ([("sept cents", "2,50")], "Tarif illisible : saisissez un plafond entier et un prix en euros."),
        ([("700,5", "2,50")], "Tarif illisible : saisissez un plafond entier et un prix en euros."),
        ([("700", "2,50"), ("1200", None)], "Prix illisible : "),
        ([("700", "2,5O")], "Prix illisible : « 2,5O ». Saisissez un montant en euros, par exemple 3,50."),
    ],
)
def test_tariff_grids_that_cannot_be_read_are_refused_in_french(grid, refusal):
    with pytest.raises(InvalidInput) as err:
        parse_brackets(grid)
    assert err.value.message.startswith(refusal)
