"""What staff and families type into a family file: each refusal names the field, in French."""

from datetime import date

import pytest

from lib.domain.changes import ChangeKind, ChangeState, PendingChange, check_note, quotient_of, quotient_payload
from lib.domain.errors import InvalidInput
from lib.domain.families import (
    BillingMode,
    ChildInput,
    ContactInput,
    Guardian,
    GuardianInput,
    QfSource,
    QuotientInput,
    check_billing,
    check_birth_date,
    check_child,
    check_contact,
    check_guardian,
    check_phone,
    check_quotient,
    check_shares,
)

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("0612345678", "06 12 34 56 78"),
        ("06.12.34.56.78", "06 12 34 56 78"),
        ("+33 6 12 34 56 78", "06 12 34 56 78"),
        ("+33 (0)1 23 45 67 89", "01 23 45 67 89"),
        ("0033612345678", "06 12 34 56 78"),
    ],
)
def test_french_phone_numbers_are_stored_one_way(typed, stored):
    assert check_phone(typed, "Téléphone") == stored


@pytest.mark.parametrize("typed", ["061234567", "0012345678", "06123456789", "+44 20 7946 0958", "06 12 AB 56 78"])
def test_other_phone_numbers_are_refused_naming_the_field(typed):
    with pytest.raises(InvalidInput, match=r"^Téléphone du contact : numéro de téléphone invalide"):
        check_contact(ContactInput("Mamie", "grand-mère", typed, True, False))


def test_a_guardian_is_checked_field_by_field():
    ok = check_guardian(GuardianInput("  Anne ", "Aubert", " Anne@Exemple.FR ", "0612345678", "1 rue Haute"), 2)
    assert ok == GuardianInput("Anne", "Aubert", "anne@exemple.fr", "06 12 34 56 78", "1 rue Haute", None)
    for typed, message in [
        (GuardianInput("", "Aubert", None, None, None), "Responsable 2, prénom : ce champ est obligatoire."),
        (GuardianInput("A" * 81, "Aubert", None, None, None), "Responsable 2, prénom : 80 caractères au plus."),
        (GuardianInput("Anne", "1234", None, None, None), "Responsable 2, nom : saisissez des lettres"),
        (GuardianInput("Anne", "Aubert", "pas-une-adresse", None, None), "Responsable 2, e-mail : Adresse e-mail"),
        (GuardianInput("Anne", "Aubert", None, "12", None), "Responsable 2, téléphone : numéro"),
        (GuardianInput("Anne", "Aubert", None, None, None, "F 12"), "Responsable 2, identifiant mairie"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            check_guardian(typed, 2)
        assert refused.value.message.startswith(message)
    with pytest.raises(InvalidInput, match="au plus 2 responsables"):
        check_guardian(ok, 3)


@pytest.mark.parametrize(
    "typed, message",
    [
        (QuotientInput(100_000, TODAY, QfSource.CAF, None), "Quotient familial : saisissez un nombre entier entre 0"),
        (QuotientInput(-1, TODAY, QfSource.CAF, None), "Quotient familial : saisissez"),
        (QuotientInput(True, TODAY, QfSource.CAF, None), "Quotient familial : saisissez"),
        (QuotientInput(700, date(2026, 11, 28), QfSource.CAF, None), "Date du quotient familial : elle ne peut"),
        (QuotientInput(700, TODAY, "impots", None), "Origine du quotient familial"),
        (QuotientInput(700, TODAY, QfSource.CAF, "12A45"), "Numéro d'allocataire CAF : chiffres seulement."),
        (QuotientInput(700, TODAY, QfSource.AUTRE, "12345"), "Numéro d'allocataire : seulement"),
    ],
)
def test_a_quotient_is_checked(typed, message):
    with pytest.raises(InvalidInput) as refused:
        check_quotient(typed, TODAY)
    assert refused.value.message.startswith(message)


def test_a_good_quotient_goes_through_and_round_trips_as_a_proposal():
    typed = check_quotient(QuotientInput(0, TODAY, "msa", " 123 4567 "), TODAY)
    assert typed == QuotientInput(0, TODAY, QfSource.MSA, "1234567")
    change = PendingChange(
        1, 1, "F", None, ChangeKind.QF, quotient_payload(typed), 5, None, ChangeState.PENDING, None, None
    )
    assert quotient_of(change) == typed


def test_a_birth_date_is_past_and_under_eighteen():
    assert check_birth_date(date(2008, 11, 28), TODAY) == date(2008, 11, 28)
    for day, message in [
        (TODAY, "Date de naissance : elle doit être passée."),
        (date(2008, 11, 27), "Date de naissance : l'enfant doit avoir moins de 18 ans."),
        ("2019-01-01", "Date de naissance : choisissez une date."),
    ]:
        with pytest.raises(InvalidInput) as refused:
            check_birth_date(day, TODAY)
        assert refused.value.message == message


def test_a_child_needs_a_known_class_and_diet():
    typed = ChildInput("Zoé", "Léger", date(2020, 1, 1), "MS", "standard")
    assert check_child(typed, TODAY, ["MS"], ["standard"]) == typed
    with pytest.raises(InvalidInput, match=r"^Classe"):
        check_child(typed, TODAY, ["CP"], ["standard"])
    with pytest.raises(InvalidInput, match=r"^Régime"):
        check_child(typed, TODAY, ["MS"], ["sans_porc"])


def guardian(rank, email="a@b.fr"):
    return Guardian(rank, 1, rank, "A", "B", email, None, None, None, None)


def test_split_billing_needs_two_guardians_with_emails_and_shares_summing_to_100():
    assert check_billing("guardian1", [guardian(1)]) is BillingMode.GUARDIAN1
    assert check_billing("split", [guardian(1), guardian(2)]) is BillingMode.SPLIT
    for mode, guardians, message in [
        ("guardian2", [guardian(1)], "Facturation : ajoutez d'abord le responsable 2."),
        ("split", [guardian(1)], "Facturation partagée : la famille doit avoir deux responsables."),
        ("split", [guardian(1), guardian(2, None)], "Facturation partagée : chaque responsable"),
        ("moitie", [guardian(1)], "Facturation : choisissez"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            check_billing(mode, guardians)
        assert refused.value.message.startswith(message)
    assert check_shares([60, 40]) == [60, 40]
    with pytest.raises(InvalidInput, match=r"100 % au total \(ici 90 %\)"):
        check_shares([50, 40])
    with pytest.raises(InvalidInput, match="Part d'un responsable"):
        check_shares([150, -50])


def test_a_contact_must_be_called_or_allowed_to_pick_up():
    with pytest.raises(InvalidInput, match=r"^Contact : cochez"):
        check_contact(ContactInput("Mamie", "grand-mère", "0612345678", False, False))


def test_a_refusal_note_is_required():
    assert check_note("  ", required=False) is None
    with pytest.raises(InvalidInput, match=r"^Note : indiquez"):
        check_note("", required=True)
