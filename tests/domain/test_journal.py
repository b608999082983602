"""The audit log's French sentences: one row per action the portal writes, built from the JSON the
writers record; an action nobody taught the journal still reads as French, never as JSON."""

import re
from datetime import date
from pathlib import Path

import pytest

from lib.domain.invoicing import TxState
from lib.domain.journal import (
    SENTENCES,
    Entry,
    brackets_text,
    concerns,
    days_phrase,
    sentence,
    setting_label,
    shown_reason,
    who,
)

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {1: "Restauration scolaire", 2: "Mercredi repas", 3: "Mercredi après-midi"}
SITE = {"site": "ALAE Jean Moulin", "service": "Restauration scolaire"}
# A service's settings as the audit log records them since each deadline rule has its own cut-off
SERVICE_ROW = {
    "id": 1,
    "name": "Restauration scolaire",
    "unit_price_cents": 350,
    "book_delay_days": 7,
    "book_delay_working": False,
    "book_cutoff_time": "23:59:00",
    "cancel_delay_days": 2,
    "cancel_delay_working": True,
    "cancel_cutoff_time": "23:59:00",
}


@pytest.mark.parametrize(
    "entry, expected",
    [
        (
            Entry(
                "attendance.save",
                "site_service_day",
                "1:1:2026-12-01",
                before={"7": "absent"},
                after={"5": "present", "6": "present", "7": "present"},
                reason="1 correction(s)",
                **SITE,
            ),
            "A pointé 3 enfant(s) pour ALAE Jean Moulin — Restauration scolaire le mardi 1 décembre 2026 : "
            "3 présent(s) (1 correction)",
        ),
        (
            Entry(
                "attendance.save",
                "site_service_day",
                "1:1:2026-12-01",
                before=None,
                after={"5": "present", "6": "absent", "7": "justified"},
                **SITE,
            ),
            "A pointé 3 enfant(s) pour ALAE Jean Moulin — Restauration scolaire le mardi 1 décembre 2026 : "
            "1 présent(s), 1 absent(s), 1 absence(s) justifiée(s)",
        ),
        (
            Entry(
                "booking.days",
                "child",
                "2",
                before={"booked_or_waiting": [[1, "2026-12-01"], [1, "2026-12-03"]]},
                after={"service": "Restauration scolaire", "month": "2026-12-01", "booked": [], "waiting": []},
                child="Hugo Martin",
                services=SERVICES,
            ),
            "A annulé 2 jour(s) de Restauration scolaire pour Hugo Martin du 01/12/2026 au 03/12/2026",
        ),
        (
            Entry(
                "booking.days.late",
                "child",
                "1",
                before={"booked_or_waiting": [[1, "2026-11-30"]]},
                after={"service": "Restauration scolaire", "booked": [], "waiting": []},
                reason="Malade",
                child="Léa Martin",
                services=SERVICES,
            ),
            "A annulé 1 jour(s) de Restauration scolaire pour Léa Martin le lundi 30 novembre 2026, hors délai",
        ),
        (
            Entry(
                "booking.days",
                "child",
                "1",
                before={"booked_or_waiting": []},
                after={"service": "Mercredi repas", "booked": [[2, "2026-12-02"]], "waiting": [[2, "2026-12-09"]]},
                child="Léa Martin",
                services=SERVICES,
            ),
            "A réservé 1 jour(s) et mis 1 jour(s) en liste d'attente de Mercredi repas pour Léa Martin "
            "du 02/12/2026 au 09/12/2026",
        ),
        (
            Entry(
                "booking.days",
                "child",
                "1",
                before={"booked_or_waiting": []},
                after={"booked": [], "waiting": []},
                child="Léa Martin",
            ),
            "N'a rien changé aux réservations de Léa Martin",
        ),
        (
            Entry(
                "booking.template",
                "child",
                "1",
                before={"booked_or_waiting": [[3, "2026-12-02"]]},
                after={
                    "template": {"1": [0, 1]},
                    "from": "2026-12-01",
                    "to": "2027-07-03",
                    "booked": [[1, "2026-12-01"], [1, "2026-12-03"]],
                    "waiting": [],
                },
                child="Léa Martin",
                services=SERVICES,
            ),
            "A appliqué la semaine type du 01/12/2026 au 03/07/2027 pour Léa Martin (Mercredi après-midi et "
            "Restauration scolaire) : 2 jour(s) réservé(s), 1 jour(s) annulé(s)",
        ),
        (
            Entry(
                "booking.promoted",
                "child",
                "4",
                before={"waiting": [[1, "2026-12-01"]]},
                after={"booked": [[1, "2026-12-01"]]},
                reason="place libérée",
                child="Inès Roux",
                services=SERVICES,
            ),
            "Place obtenue depuis la liste d'attente par Inès Roux : Restauration scolaire le mardi 1 décembre 2026",
        ),
        (
            Entry(
                "registration.save",
                "child",
                "1",
                before={"site": "ALAE Jean Moulin", "services": []},
                after={"site": "ALAE Jean Moulin", "services": [1, 2], "year": "2026/2027"},
                child="Léa Martin",
                services=SERVICES,
            ),
            "A inscrit Léa Martin à « ALAE Jean Moulin » pour 2026/2027 : Restauration scolaire et Mercredi repas",
        ),
        (
            Entry(
                "registration.save",
                "child",
                "1",
                before={"site": "ALAE Jean Moulin", "services": [1]},
                after={"site": "ALAE Jean Moulin", "services": [], "year": "2026/2027"},
                child="Léa Martin",
            ),
            "A retiré l'inscription de Léa Martin à « ALAE Jean Moulin »",
        ),
        (
            Entry(
                "service.update",
                "service",
                "1",
                before={
                    "name": "Restauration scolaire",
                    "unit_price_cents": 350,
                    "book_delay_days": 7,
                    "book_delay_working": False,
                    "cancel_delay_days": 2,
                    "cancel_delay_working": True,
                    "cutoff_time": "23:59:00",
                },
                after={
                    "unit_price_cents": 385,
                    "book_delay_days": 7,
                    "book_delay_working": False,
                    "cancel_delay_days": 3,
                    "cancel_delay_working": True,
                    "cutoff_time": "12:00:00",
                },
            ),
            "A modifié « Restauration scolaire » : prix 3,50\u00a0€ → 3,85\u00a0€, délai d'annulation 2 jour ouvré(s) → "
            "3 jour ouvré(s), heure limite 23 h 59 → 12 h 00",
        ),
        (
            Entry(
                "service.update",
                "service",
                "1",
                before=SERVICE_ROW,
                after={**SERVICE_ROW, "cancel_cutoff_time": "18:00:00"},
            ),
            "A modifié « Restauration scolaire » : heure limite d'annulation 23 h 59 → 18 h 00",
        ),
        (
            Entry(
                "capacity.update",
                "site_service",
                "1:1",
                before={"capacity": 150},
                after={"capacity": 1200, "promoted": 2},
                **SITE,
            ),
            "A changé la capacité de ALAE Jean Moulin — Restauration scolaire : 150 → 1\u202f200 place(s) ; "
            "2 enfant(s) de la liste d'attente ont obtenu une place",
        ),
        (
            Entry(
                "tariff.update",
                "service",
                "1",
                before=[],
                after=[[700, 250], [None, 420]],
                service="Restauration scolaire",
            ),
            "A changé les tarifs de « Restauration scolaire » : prix unique de la prestation → QF ≤ 700 : 2,50\u00a0€ ; "
            "au-delà : 4,20\u00a0€",
        ),
        (
            Entry("tariff.refused", "service", "1", reason="Tranches en désordre", service="Restauration scolaire"),
            "Modification des tarifs de « Restauration scolaire » refusée",
        ),
        (
            Entry(
                "invoice.publish",
                "month",
                "2026-10-01",
                after={
                    "rule": "bookings",
                    "documents": 1264,
                    "first": "F-2026-000001",
                    "last": "F-2026-001264",
                    "total_cents": 1192360,
                },
            ),
            "A publié 1\u202f264 document(s) pour octobre 2026 (F-2026-000001 à F-2026-001264), total 11\u202f923,60\u00a0€",
        ),
        (
            Entry("invoice.publish_refused", "month", "2026-12-01", reason="Mois pas terminé"),
            "Publication des factures refusée pour décembre 2026",
        ),
        (
            Entry("invoice.access_refused", "invoice", "12", invoice="F-2026-000012"),
            "Accès refusé à la facture F-2026-000012",
        ),
        (
            Entry("payment_right.request", "family", "2", family="Famille Martin"),
            "A demandé le droit de payer en ligne pour Famille Martin",
        ),
        (
            Entry("payment_right.granted", "family", "7", family="Famille Bonnet"),
            "A accordé le droit de payer en ligne à Famille Bonnet",
        ),
        (
            Entry("payment_right.refused", "family", "7", family="Famille Bonnet"),
            "A refusé le droit de payer en ligne à Famille Bonnet",
        ),
        (
            Entry(
                "payment.start",
                "invoice",
                "12",
                after={"transaction": "T1", "amount_cents": 2340},
                invoice="F-2026-000012",
            ),
            "A commencé un paiement en ligne de 23,40\u00a0€ pour la facture F-2026-000012",
        ),
        (
            Entry(
                "closure.declare",
                "closure",
                "4,5",
                after={
                    "kind": "greve",
                    "start": "2027-01-21",
                    "end": "2027-01-22",
                    "scope_names": ["Restauration scolaire — École des Tilleuls", "Mercredi repas — Centre"],
                    "booked": 12,
                    "waiting": 1,
                    "families": 9,
                },
                reason="grève du personnel",
            ),
            "A déclaré : Grève du 21/01/2027 au 22/01/2027 (Restauration scolaire — École des Tilleuls ; "
            "Mercredi repas — Centre) — 12 réservation(s) annulée(s), 1 place(s) en liste d'attente retirée(s) "
            "pour 9 famille(s)",
        ),
        (
            Entry(
                "closure.withdraw",
                "closure",
                "4",
                before={"kind": "pont", "start": "2027-05-07", "end": "2027-05-07", "scope_names": ["Toutes"]},
            ),
            "A retiré : Pont le vendredi 7 mai 2027 (Toutes) — les réservations annulées le restent",
        ),
        (
            Entry(
                "closure.cancelled",
                "child",
                "7",
                before={"booked": [[1, "2027-01-21"]], "waiting": [[2, "2027-01-22"]]},
                after={"closures": [4, 5], "kind": "greve"},
                child="Alice Aubert",
                services=SERVICES,
            ),
            "Grève : 1 réservation(s) annulée(s) et 1 place(s) en liste d'attente retirée(s) de Restauration "
            "scolaire et Mercredi repas pour Alice Aubert du 21/01/2027 au 22/01/2027",
        ),
        (
            Entry("payment.start_refused", "invoice", "12", reason="Déjà payée", invoice="F-2026-000012"),
            "Paiement en ligne refusé pour la facture F-2026-000012",
        ),
        (
            Entry(
                "payment.paid",
                "invoice",
                "12",
                before={"state": "pending"},
                after={"state": "paid", "transaction": "T1", "source": "notification", "amount_cents": 2340},
                invoice="F-2026-000012",
            ),
            "Paiement en ligne reçu de 23,40\u00a0€ pour la facture F-2026-000012 (avis de la banque)",
        ),
        (
            Entry("payment.expired", "invoice", "12", after={"transaction": "T1"}, invoice="F-2026-000012"),
            "Paiement en ligne expiré (pas de réponse de la banque) pour la facture F-2026-000012",
        ),
        (
            Entry("payment.rejected", "transaction", "T9", after={"source": "notification"}, reason="montant 1 ≠ 2"),
            "Réponse de paiement rejetée (transaction T9), reçue par avis de la banque",
        ),
        (
            Entry("payment.rejected", "address", "198.51.100.66", after={"source": "notification", "count": 400}),
            "400 réponses de paiement rejetées venant de 198.51.100.66 (avis de la banque)",
        ),
        (
            Entry(
                "payment.paid",
                "invoice",
                "12",
                after={"state": "paid", "source": "notification", "amount_cents": 2340, "overpaid_cents": 2340},
                invoice="F-2026-000012",
            ),
            "Paiement en ligne reçu de 23,40\u00a0€ pour la facture F-2026-000012 (avis de la banque) — trop-perçu de "
            "23,40\u00a0€ à rembourser",
        ),
        (
            Entry("demo.build", "database", None, after={"today": "2026-11-27"}),
            "A créé la ville de démonstration (données au vendredi 27 novembre 2026)",
        ),
    ],
)
def test_each_action_reads_as_a_french_sentence(entry, expected):
    assert sentence(entry) == expected


@pytest.mark.parametrize(
    "entry, expected",
    [
        (
            Entry("child.merged", "child", "2", before={"a": 1}, child="Hugo Martin"),
            "Action « child.merged » sur Hugo Martin",
        ),
        (Entry("export.done", "month", "2026-10-01"), "Action « export.done » sur le mois 2026-10-01"),
        (Entry("strange", "", None), "Action « strange » sur ?"),
        # A known action in a shape an older version wrote: still French, never a traceback or JSON.
        (
            Entry("capacity.update", "site_service", "1:1", before="150", after=["x"], **SITE),
            "A changé la capacité de ALAE Jean Moulin — Restauration scolaire : ?",
        ),
        (
            Entry("booking.days", "child", "9", before={"booked_or_waiting": [["x", "pas une date"]]}, after=None),
            "N'a rien changé aux réservations de l'enfant n° 9",
        ),
        (Entry("demo.build", "database", None, after="illisible"), "A créé la ville de démonstration"),
    ],
)
def test_unknown_or_odd_entries_stay_readable(entry, expected):
    assert sentence(entry) == expected


def written_actions() -> set[str]:
    """Every action string that lib/ writes to the audit log, f-strings expanded."""
    found = set()
    for path in (ROOT / "lib").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r"""action=["']([a-z_]+\.[a-z_.]+)["']""", text))
        found |= set(re.findall(r"""refusals_audited\([^)]*?["']([a-z_]+\.[a-z_]+)["']""", text))
        found |= set(re.findall(r"""VALUES \([^)]*'([a-z_]+\.[a-z_]+)'""", text))
    found |= {f"payment.{s.value}" for s in TxState} | {"payment_right.granted", "payment_right.refused"}
    found |= {a + ".late" for a in ("booking.days", "booking.template")} | {"booking.days", "booking.template"}
    return found


def test_every_action_the_portal_writes_has_its_sentence():
    written = written_actions()
    assert {"attendance.save", "tariff.refused", "demo.build", "payment.rejected"} <= written  # the scan works
    assert written - set(SENTENCES) == set()


def test_who_names_the_person_and_the_role_once():
    assert who("Nadia Benali (agent d'animation)", "agent") == "Nadia Benali (agent d'animation)"
    assert who("Camille Martin", "famille") == "Camille Martin (famille)"
    assert who(None, None) == "Système"
    assert who("Ancien compte", "inconnu") == "Ancien compte"


def test_concerns_the_child_and_family_by_name():
    assert concerns(Entry("x", child="Hugo Martin", family="Famille Martin")) == "Hugo Martin (Famille Martin)"
    assert concerns(Entry("x", family="Famille Bonnet")) == "Famille Bonnet"
    assert concerns(Entry("x", entity="month", entity_id="2026-10-01")) == ""


def test_the_reason_column_does_not_repeat_the_sentence():
    assert shown_reason(Entry("attendance.save", reason="1 correction(s)")) == ""
    assert shown_reason(Entry("booking.days.late", reason="Malade")) == "Malade"


@pytest.mark.parametrize(
    "days, expected",
    [
        ([], ""),
        ([date(2026, 12, 1)], "le mardi 1 décembre 2026"),
        ([date(2026, 12, 18), date(2026, 12, 1), date(2026, 12, 1)], "du 01/12/2026 au 18/12/2026"),
    ],
)
def test_days_phrase(days, expected):
    assert days_phrase(days) == expected


def test_brackets_skip_malformed_items():
    assert brackets_text([[None, 420], "x", [1, None]]) == "au-delà : 4,20\u00a0€"


def test_backups_accounts_and_settings_made_from_the_command_line_read_in_french():
    assert (
        sentence(Entry("database.backup", after={"file": "portail-20261201-020000-1a2b3c4d.duckdb"}))
        == "Sauvegarde de la base de données prise (portail-20261201-020000-1a2b3c4d.duckdb)"
    )
    assert (
        sentence(Entry("user.create", after={"email": "dgs@mairie.fr", "role": "admin"}))
        == "A créé le compte administrateur dgs@mairie.fr"
    )
    assert (
        sentence(Entry("setting.update", entity="setting", entity_id="public_url"))
        == "A modifié le réglage « Adresse publique du portail »"
    )


@pytest.mark.parametrize(
    "entry, expected",
    [
        (
            Entry("auth.link_refused", "link", None, after={"purpose": "password_reset", "why": "unknown"}),
            "Lien de nouveau mot de passe refusé (inconnu)",
        ),
        (
            Entry("auth.link_refused", "user", "7", after={"purpose": "invitation", "why": "expired"}),
            "Lien d'invitation refusé (expiré)",
        ),
        (
            Entry("auth.invited", "user", "7", after={"email": "a@b.fr", "resent": True}),
            "A renvoyé l'invitation à créer un mot de passe à a@b.fr",
        ),
        (
            Entry("auth.reset_requested", "user", "7", after={"sent": False}),
            "A demandé un nouveau mot de passe (trop de demandes dans l'heure : rien envoyé)",
        ),
        (
            Entry("auth.reset_not_sent", "address", "203.0.113.0/24"),
            "Nouveau mot de passe demandé, aucun lien envoyé : adresse publique du portail non configurée "
            "(connexion 203.0.113.0/24)",
        ),
        (
            Entry("auth.email_changed", "user", "7", before={"email": "a@b.fr"}, after={"email": "c@d.fr"}),
            "A changé son adresse e-mail : a@b.fr → c@d.fr",
        ),
    ],
)
def test_account_entries_read_in_french(entry, expected):
    assert sentence(entry) == expected


def test_a_setting_reads_as_its_label_in_the_log():
    assert setting_label("sepa_creditor_id") == "Prélèvement : identifiant créancier SEPA (ICS)"
    assert setting_label("town_siret") == "SIRET de la commune"
    assert setting_label("quelque_chose") == "quelque_chose"
