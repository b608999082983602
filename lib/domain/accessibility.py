"""The facts of the accessibility statement (« Déclaration d'accessibilité », RGAA 4.1), kept in one
place: the public page shows them, every page's footer names the level, and the browser tests
(tests/browser/test_accessibility.py) are the audit they come from. Update them together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

STATEMENT_PATH = "/accessibilite"  # public: no login needed
LEVEL = "partiellement conforme"
RGAA_VERSION = "4.1"
AUDIT_DATE = date(2026, 11, 27)
AUDIT_METHOD = (
    "Audit automatisé axe-core 4.12 (règles WCAG 2.1 A et AA) dans le navigateur Chromium, sur chaque page de "
    "chaque profil (famille, agent, cuisine, élu, administrateur), sur la page de connexion, les pages de "
    "paiement et cette page, à 390 pixels de large (téléphone) et à 1280 pixels ; parcours au clavier seul "
    "(connexion, semaine type, « Appliquer », « Confirmer », détail d'une facture, « Payer ») ; lecture des "
    "pages à 390 pixels sans défilement horizontal ; recherche de mots anglais dans le texte, les noms donnés "
    "aux lecteurs d'écran (aria-label), les textes indicatifs des champs et les infobulles. Ces contrôles sont "
    "rejoués à chaque modification du portail. Il ne s'agit pas d'un audit RGAA complet réalisé par un organisme indépendant : certains "
    "critères (pertinence des alternatives, restitution par les lecteurs d'écran) demandent une vérification "
    "humaine qui reste à faire."
)
TECHNOLOGIES = ["HTML5", "CSS", "JavaScript", "WAI-ARIA", "SVG (graphiques)", "PDF (factures)"]
ENVIRONMENT = (
    "Chromium 156 sous Debian 12, avec les outils axe-core 4.12.1 et Playwright ; affichages 390 × 844 et 1280 × 900."
)


@dataclass(frozen=True)
class Barrier:
    what: str
    workaround: str


KNOWN_BARRIERS = [
    Barrier(
        "Dans la grille du calendrier de « Mes inscriptions », chaque jour de service est atteint avec la "
        "touche Tab et s'ouvre avec Entrée, mais un lecteur d'écran n'annonce que l'état du jour (par exemple "
        "« ✓ Cantine »), pas sa date ; les jours sans service ne sont pas atteignables au clavier.",
        "L'interrupteur « Affichage en liste » donne chaque jour avec sa date et son état en toutes lettres. Le "
        "bouton « Modification » ouvre deux formulaires utilisables au clavier et au lecteur d'écran : "
        "« Semaine type » (cases à cocher par jour, « Appliquer » puis « Confirmer ») et « Jours occasionnels » "
        "(la liste des jours du mois, chacun avec sa date et son état écrit).",
    ),
    Barrier(
        "Les tableaux de données (factures, pointage, journal) sont dessinés dans un canevas ; une copie en "
        "tableau est fournie aux lecteurs d'écran, mais sa restitution n'a pas encore été vérifiée avec un "
        "lecteur d'écran.",
        "Dans « Mes factures », sur un téléphone, chaque facture est un bouton qui dit son état, son mois, le "
        "reste à payer et son numéro ; sur un écran large, la liste « Facture affichée » choisit une facture. "
        "Son détail s'affiche en texte, avec le PDF. Les chiffres du personnel sont téléchargeables en CSV.",
    ),
    Barrier(
        "Si le portail perd la connexion au serveur, l'explication détaillée affichée par l'outil sur lequel "
        "il est construit (Streamlit) peut rester en anglais.",
        "Rechargez la page ; si le message persiste, écrivez à la mairie (adresse en bas de chaque page).",
    ),
    Barrier(
        "Les graphiques (tendances, repas par jour) n'ont pas de description textuelle détaillée.",
        "Les mêmes chiffres sont donnés dans un tableau ou un fichier CSV sous chaque graphique ; chaque "
        "série a un motif ou une forme de point en plus de sa couleur.",
    ),
    Barrier(
        "Les factures PDF ne sont pas des PDF balisés (structure non restituée par un lecteur d'écran).",
        "Le détail de chaque facture (lignes, montants, échéance, paiements) est affiché en texte dans "
        "« Mes factures ».",
    ),
]

NOT_SUBJECT = [
    "La page de paiement de la banque (prestataire de paiement de la mairie), qui relève de ce prestataire.",
]


def footer_line() -> str:
    return f"Accessibilité : {LEVEL}"
