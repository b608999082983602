"""What an invoice says so that the public accountant can collect it: debtor, town, collection mode,
ordonnateur, ways to pay with the payment reference (or the direct debit alone), recourse."""

from datetime import date

import pytest

from lib.domain.errors import InvalidInput
from lib.domain.invoice_text import (
    FIELDS,
    RECOURSE,
    CollectionMode,
    TownLegal,
    check_siret,
    checked_legal,
    invoice_text,
    legal_from,
)

SIRET = "21310297300012"  # its Luhn check digit is right
REGIE = TownLegal(
    name="Ville de Levignac",
    address="Place de la Mairie, 31530 Levignac",
    siret=SIRET,
    mode=CollectionMode.REGIE,
    official_name="Monique Garrigues",
    official_title="Maire",
    accountant_name="SGC de Colomiers",
    accountant_address="4 allée du Rouergue, 31770 Colomiers",
    regie_name="Régie enfance de Levignac",
    regie_address="Mairie, place de la Mairie, 31530 Levignac",
    regie_hours="du lundi au vendredi de 8 h 30 à 12 h",
)
ASAP = TownLegal(**{**REGIE.__dict__, "mode": CollectionMode.ASAP})
FORM = {
    "town_address": "Place de la Mairie, 31530 Levignac",
    "town_siret": "213 102 973 00012",
    "collection_mode": "asap",
    "official_name": "Monique Garrigues",
    "official_title": "Maire",
    "accountant_name": "SGC de Colomiers",
    "accountant_address": "4 allée du Rouergue, 31770 Colomiers",
    "regie_name": "",
    "regie_address": "",
    "regie_hours": "",
}


def text_of(town, **changes):
    facts = {
        "number": "F-2026-000123",
        "credit_note": False,
        "issue": date(2026, 11, 5),
        "due": date(2026, 12, 5),
        "left_cents": 8350,
        "debtor_name": "Claire Martin",
        "debtor_address": "3 rue des Écoles, 31530 Levignac",
        "online_by_payfip": True,
    }
    return invoice_text(town, **{**facts, **changes})


def ways(text):
    return {way.title: way.text for way in text.ways}


def test_a_regie_invoice_names_its_debtor_town_official_and_the_regie_ways_to_pay():
    text = text_of(REGIE)
    assert text.debtor == ("Débiteur : Claire Martin", "3 rue des Écoles, 31530 Levignac")
    assert text.issuer == ("Ville de Levignac", "Place de la Mairie, 31530 Levignac", "SIRET : 213 102 973 00012")
    assert text.dates == ("Date d'émission : 05/11/2026", "Date d'échéance : 05/12/2026")
    assert text.reference == "Référence de paiement : F2026000123"
    assert text.official == "L'ordonnateur : Monique Garrigues, Maire"
    assert "régie de recettes de la commune (« Régie enfance de Levignac »)" in text.collection
    found = ways(text)
    assert list(found) == ["En ligne", "Par chèque", "En espèces ou en CESU", "Prélèvement automatique"]
    assert "PayFiP" in found["En ligne"] and "F2026000123" in found["En ligne"]
    assert found["Par chèque"].startswith("à l'ordre de « Régie enfance de Levignac »")
    assert "au dos la référence F2026000123" in found["Par chèque"] and "Trésor public" not in found["Par chèque"]
    assert "Mairie, place de la Mairie" in found["En espèces ou en CESU"]
    assert "du lundi au vendredi de 8 h 30 à 12 h" in found["En espèces ou en CESU"]
    assert "mandat de prélèvement SEPA" in found["Prélèvement automatique"]
    assert text.recourse == RECOURSE


def test_an_asap_invoice_is_collected_by_the_public_accountant_cheques_to_the_tresor():
    text = text_of(ASAP)
    assert "avis des sommes à payer" in text.collection and "SGC de Colomiers, 4 allée du Rouergue" in text.collection
    assert "rendu exécutoire" in text.collection
    found = ways(text)
    assert list(found) == ["En ligne", "Par chèque", "Prélèvement automatique"]  # no cash desk
    assert found["Par chèque"].startswith("à l'ordre du Trésor public, en inscrivant au dos la référence F2026000123")
    assert "SGC de Colomiers, 4 allée du Rouergue, 31770 Colomiers" in found["Par chèque"]
    assert text.recourse == RECOURSE


@pytest.mark.parametrize("town", [REGIE, ASAP])
def test_under_direct_debit_the_debit_replaces_every_other_way(town):
    text = text_of(town, debit_on=date(2026, 12, 10), debit_account="FR76 •••• 0189")
    assert text.ways == (text.ways[0],) and text.ways[0].title == "Prélèvement automatique"
    assert text.ways[0].text.startswith(
        "Cette facture sera prélevée le jeudi 10 décembre 2026 sur votre compte FR76 •••• 0189 (83,50\u00a0€, "
        "référence F2026000123)."
    )
    assert text.reference == "Référence de paiement : F2026000123" and text.recourse == RECOURSE
    bare = text_of(town, debit_on=date(2026, 12, 10))
    assert "sur votre compte (83,50" in bare.ways[0].text


def test_the_recourse_is_the_two_months_of_article_l1617_5():
    assert "deux mois suivant la réception de la présente facture" in RECOURSE
    assert "article L1617-5 du code général des collectivités territoriales" in RECOURSE
    assert "tribunal compétent" in RECOURSE


def test_online_says_payfip_only_when_the_town_uses_it():
    assert "PayFiP" not in ways(text_of(REGIE, online_by_payfip=False))["En ligne"]


def test_nothing_left_no_way_to_pay_and_a_credit_note_asks_nothing():
    assert text_of(REGIE, left_cents=0).ways == ()
    credit = text_of(REGIE, number="AV-2026-000124", credit_note=True)
    assert credit.ways == () and credit.reference == "" and credit.recourse == ""
    assert credit.dates == ("Date d'émission : 05/11/2026",) and credit.debtor[0] == "Débiteur : Claire Martin"


def test_a_debtor_without_an_address_is_said_so_and_an_unset_town_prints_what_it_has():
    assert text_of(REGIE, debtor_address=None).debtor[1].startswith("Adresse postale non renseignée")
    bare = text_of(TownLegal(name="Ville"))
    assert bare.issuer == ("Ville",) and bare.official == "" and bare.collection.endswith("comptable public.")


def test_stored_settings_give_the_town_the_default_mode_when_unset():
    assert legal_from({"town_name": "Ville"}).mode is CollectionMode.ASAP
    assert legal_from({"collection_mode": "regie", "town_siret": SIRET}).mode is CollectionMode.REGIE


def test_a_siret_passes_its_check_digit():
    assert check_siret(" 213 102 973 00012 ") == SIRET
    for bad in ("21310297300013", "2131029730001", "2131029730001A", "", "   ", None, 21310297300012):
        with pytest.raises(InvalidInput, match="SIRET de la commune"):
            check_siret(bad)


def test_the_form_is_checked_as_a_whole():
    assert checked_legal(FORM)["town_siret"] == SIRET and checked_legal(FORM)["collection_mode"] == "asap"
    assert list(checked_legal(FORM)) == list(FIELDS)
    refusals = {
        "accountant_address": ({"accountant_address": "  "}, "Adresse du comptable public : ce champ est obligatoire"),
        "regie_hours": (
            {"collection_mode": "regie", "regie_name": "Régie", "regie_address": "Mairie"},
            "Horaires d'ouverture de la régie : ce champ est obligatoire",
        ),
        "siret": ({"town_siret": "21310297300013"}, "n'est pas un numéro SIRET valide"),
        "mode": ({"collection_mode": "cash"}, "Mode de recouvrement : choisissez"),
        "town": ({"town_address": ""}, "Adresse de la mairie : ce champ est obligatoire"),
        "official": ({"official_name": ""}, "Ordonnateur : nom : ce champ est obligatoire"),
        "long": ({"official_title": "x" * 201}, "200 caractères au plus"),
        "type": ({"regie_name": 3}, "saisissez un texte"),
        "unknown": ({"iban": "FR76"}, "Réglage inconnu"),
    }
    for changes, message in refusals.values():
        with pytest.raises(InvalidInput, match=message):
            checked_legal({**FORM, **changes})
