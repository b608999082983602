"""The audit log in plain French: one sentence per entry, built from what the writer recorded
(its action, the entity's names looked up by the reader, and the before/after/reason JSON).

Every action string written by `audit.record` has its sentence here (`SENTENCES`); an action
nobody taught us still reads as « Action « x.y » sur … », never as raw JSON. Pure: the names are
looked up by lib.services.trail and passed in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from lib.domain import fr
from lib.domain.calendar import ClosureKind
from lib.domain.invoice_text import FIELDS as INVOICE_FIELDS
from lib.domain.invoicing import PaymentMethod
from lib.domain.letters import MailKind
from lib.domain.roles import Role

# What the administrator filters by (« Type de changement ») → the action prefixes it covers.
KINDS: dict[str, tuple[str, ...]] = {
    "Tout": (),
    "Réservations": ("booking.",),
    "Inscriptions": ("registration.",),
    "Pointage": ("attendance.",),
    "Fermetures et grèves": ("closure.",),
    "Prestations, tarifs et capacités": ("service.", "tariff.", "capacity.", "site_service."),
    "Structures, années scolaires et régimes": ("school_year.", "site.", "diet."),
    "Facturation": ("invoice.",),
    "Paiements en ligne": ("payment.", "payment_right."),
    "Régie (paiements en mairie)": ("cashdesk.", "user.regisseur"),
    "Prélèvements": ("sepa.",),
    "Connexions et mots de passe": ("auth.", "user."),
    "Consultations de dossiers": ("child.read", "family.read", "family.export"),
    "Santé (PAI)": ("health.",),
    "Dossiers des familles": (
        "family.",
        "guardian.",
        "child.create",
        "child.update",
        "child.shares",
        "child.archive",
        "child.unarchive",
        "contact.",
        "consent.",
        "change.",
        "import.",
    ),
    "Sauvegardes et réglages": ("database.", "setting."),
    "Courriels": ("mail.",),
    "Calendrier du téléphone": ("calendar.",),
}

NAME_MAX = 60  # a family or child name typed in the filter
SYSTEM = "Système"


@dataclass(frozen=True)
class Entry:
    """One audit row with the names its ids stand for (None where the reader found none)."""

    action: str
    entity: str = ""
    entity_id: str | None = None
    before: Any = None
    after: Any = None
    reason: str | None = None
    child: str | None = None  # « Hugo Martin » when the entity is a child
    family: str | None = None  # « Famille Martin »: the entity's family (child, family, invoice)
    invoice: str | None = None  # « F-2026-000123 »
    site: str | None = None  # for site × service (× day) entities
    service: str | None = None  # for service and site × service entities
    services: Mapping[int, str] = field(default_factory=dict)  # every service's name, for ids in the JSON


# --- small French pieces -------------------------------------------------------------------------


def count(n: int, word: str) -> str:
    """'3 enfant(s)', '14 205 jour(s)': the portal's own way of writing counts."""
    return f"{fr.decimal(n, 0)} {word}(s)"


def plural(n: int, singular: str, many: str) -> str:
    """'1 correction', '2 corrections'."""
    return f"{fr.decimal(n, 0)} {singular if n == 1 else many}"


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        return None


def _hour(value: Any) -> str:
    try:
        moment = value if isinstance(value, time) else time.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return fr.time_of_day(moment)


def days_phrase(days: list[date]) -> str:
    """'le mardi 1 décembre 2026' for one day; 'du 01/12/2026 au 18/12/2026' for several."""
    days = sorted(set(days))
    if not days:
        return ""
    if len(days) == 1:
        return f"le {fr.long_date(days[0])}"
    return f"du {fr.numeric_date(days[0])} au {fr.numeric_date(days[-1])}"


def _pairs(value: Any) -> list[tuple[int | None, date]]:
    """[[service_id, '2026-12-01'], …] as written by the booking services."""
    found = []
    for item in value or []:
        day = _day(item[1]) if isinstance(item, (list, tuple)) and len(item) == 2 else None
        if day is not None:
            found.append((_int(item[0]), day))
    return found


def _service_names(entry: Entry, ids: list[int | None]) -> str:
    names = list(dict.fromkeys(entry.services.get(i, f"prestation n° {i}") for i in ids if i is not None))
    if not names and isinstance(entry.after, dict) and isinstance(entry.after.get("service"), str):
        names = [entry.after["service"]]
    return " et ".join(", ".join(names).rsplit(", ", 1)) if names else "prestation inconnue"


def _child(entry: Entry) -> str:
    return entry.child or (f"l'enfant n° {entry.entity_id}" if entry.entity_id else "un enfant")


def _family(entry: Entry) -> str:
    return entry.family or (f"la famille n° {entry.entity_id}" if entry.entity_id else "une famille")


def _invoice(entry: Entry) -> str:
    if entry.invoice:
        return f"la facture {entry.invoice}"
    return f"la facture n° {entry.entity_id}" if entry.entity_id else "une facture"


def _site_service(entry: Entry) -> str:
    parts = [p for p in (entry.site, entry.service) if p]
    return " — ".join(parts) if parts else f"la structure et prestation {entry.entity_id or '?'}"


def _month(value: Any) -> str:
    day = _day(value)
    return fr.month_year(day) if day else str(value or "?")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# --- one sentence per action ----------------------------------------------------------------------


def _booking(entry: Entry) -> str:
    before, after = _dict(entry.before), _dict(entry.after)
    cancelled = _pairs(before.get("booked_or_waiting"))
    booked, waiting = _pairs(after.get("booked")), _pairs(after.get("waiting"))
    everything = cancelled + booked + waiting
    service = _service_names(entry, [s for s, _ in everything])
    late = ", hors délai" if entry.action.endswith(".late") else ""
    who = _child(entry)
    if entry.action.startswith("booking.template"):
        period = ""
        if _day(after.get("from")) and _day(after.get("to")):
            period = f" du {fr.numeric_date(_day(after['from']))} au {fr.numeric_date(_day(after['to']))}"
        done = [
            f"{count(len(booked), 'jour')} réservé(s)" if booked else "",
            f"{count(len(waiting), 'jour')} en liste d'attente" if waiting else "",
            f"{count(len(cancelled), 'jour')} annulé(s)" if cancelled else "",
        ]
        done = [d for d in done if d] or ["aucun changement"]
        return f"A appliqué la semaine type{period} pour {who}{late} ({service}) : {', '.join(done)}"
    if not everything:
        return f"N'a rien changé aux réservations de {who}{late}"
    parts = []
    if booked:
        parts.append(f"réservé {count(len(booked), 'jour')}")
    if waiting:
        parts.append(f"mis {count(len(waiting), 'jour')} en liste d'attente")
    if cancelled:
        parts.append(f"annulé {count(len(cancelled), 'jour')}")
    verbs = " et ".join(", ".join(parts).rsplit(", ", 1))
    return f"A {verbs} de {service} pour {who} {days_phrase([d for _, d in everything])}{late}"


def _promoted(entry: Entry) -> str:
    pairs = _pairs(_dict(entry.after).get("booked"))
    service = _service_names(entry, [s for s, _ in pairs])
    return (
        f"Place obtenue depuis la liste d'attente par {_child(entry)} : {service} {days_phrase([d for _, d in pairs])}"
    ).rstrip()


def _registration(entry: Entry) -> str:
    before, after = _dict(entry.before), _dict(entry.after)
    site = after.get("site") or before.get("site") or "une structure"
    wanted = [s for s in (after.get("services") or []) if _int(s) is not None]
    if not wanted:
        return f"A retiré l'inscription de {_child(entry)} à « {site} »"
    names = _service_names(entry, [_int(s) for s in wanted])
    year = f" pour {after['year']}" if after.get("year") else ""
    verb = "A modifié l'inscription de" if before.get("services") else "A inscrit"
    return f"{verb} {_child(entry)} à « {site} »{year} : {names}"


def _closure_period(values: dict[str, Any]) -> str:
    label = ClosureKind(str(values.get("kind"))).label
    start, end = _day(values.get("start")), _day(values.get("end"))
    period = f" {days_phrase([start, end])}" if start and end else ""
    scopes = [str(s) for s in values.get("scope_names") or []]
    return f"{label}{period}" + (f" ({' ; '.join(scopes)})" if scopes else "")


def _closure_declare(entry: Entry) -> str:
    after = _dict(entry.after)
    booked, waiting = _int(after.get("booked")) or 0, _int(after.get("waiting")) or 0
    families = _int(after.get("families")) or 0
    done = (
        f"{count(booked, 'réservation')} annulée(s), {count(waiting, 'place')} en liste d'attente retirée(s) "
        f"pour {count(families, 'famille')}"
    )
    return f"A déclaré : {_closure_period(after)} — {done}"


def _closure_withdraw(entry: Entry) -> str:
    return f"A retiré : {_closure_period(_dict(entry.before))} — les réservations annulées le restent"


def _closure_cancelled(entry: Entry) -> str:
    before = _dict(entry.before)
    booked, waiting = _pairs(before.get("booked")), _pairs(before.get("waiting"))
    label = ClosureKind(str(_dict(entry.after).get("kind"))).label
    parts = [count(len(booked), "réservation") + " annulée(s)" if booked else ""]
    parts.append(f"{count(len(waiting), 'place')} en liste d'attente retirée(s)" if waiting else "")
    done = " et ".join(p for p in parts if p) or "rien d'annulé"
    service = _service_names(entry, [s for s, _ in booked + waiting])
    return (
        f"{label} : {done} de {service} pour {_child(entry)} {days_phrase([d for _, d in booked + waiting])}".rstrip()
    )


STATUS_WORDS = {"present": "présent", "absent": "absent"}


def _attendance(entry: Entry) -> str:
    after, before = _dict(entry.after), _dict(entry.before)
    day = _day((entry.entity_id or "").split(":")[-1])
    when = f" le {fr.long_date(day)}" if day else ""
    tally = Counter(after.values())
    detail = ", ".join(
        (f"{fr.decimal(tally[s], 0)} absence(s) justifiée(s)" if s == "justified" else count(tally[s], STATUS_WORDS[s]))
        for s in ("present", "absent", "justified")
        if tally[s]
    )
    corrections = f" ({plural(len(before), 'correction', 'corrections')})" if before else ""
    return (
        f"A pointé {count(len(after), 'enfant')} pour {_site_service(entry)}{when}"
        f"{' : ' + detail if detail else ''}{corrections}"
    )


SERVICE_FIELDS = {
    "unit_price_cents": "prix",
    "book_delay_days": "délai de réservation",
    "book_cutoff_time": "heure limite de réservation",
    "cancel_delay_days": "délai d'annulation",
    "cancel_cutoff_time": "heure limite d'annulation",
    "cutoff_time": "heure limite",  # one hour for both rules, in the entries written before migration 006
}


def _delay(days: Any, working: Any) -> str:
    n = _int(days)
    return f"{count(n, 'jour ouvré') if working else count(n, 'jour')}" if n is not None else str(days)


def _service_value(field_name: str, values: dict[str, Any]) -> str:
    if field_name == "unit_price_cents":
        cents = _int(values.get(field_name))
        return fr.euros(cents) if cents is not None else "?"
    if field_name.endswith("cutoff_time"):
        return _hour(values.get(field_name))
    working = values.get(field_name.replace("_days", "_working"))
    return _delay(values.get(field_name), working)


# The town's settings as the administrator's pages name them (the invoices' legal mentions: their form's
# own labels); a setting not named here reads as its key.
SETTING_LABELS: dict[str, str] = {
    **INVOICE_FIELDS,
    "town_name": "Nom de la commune",
    "contact_email": "Adresse e-mail de contact",
    "holiday_zone": "Zone de vacances scolaires",
    "public_url": "Adresse publique du portail",
    "invoice_rule": "Règle de facturation",
    "invoice_due_days": "Délai de paiement des factures",
    "recovery_minimum_cents": "Seuil de mise en recouvrement",
    "payment_backend": "Banque du paiement en ligne",
    "payment_options": "Options du paiement en ligne",
    "payment_sandbox": "Banque de test",
    "payment_attempt_minutes": "Durée d'une page de paiement",
    "unpaid_reminder_days": "Relances des factures impayées",
    "receipt_delay_minutes": "Délai des récapitulatifs de réservation",
    "mail_transport": "Envoi des courriels",
    "mail_from": "Expéditeur des courriels",
    "mail_per_minute": "Courriels par minute",
    "smtp_host": "Serveur SMTP",
    "smtp_port": "Port SMTP",
    "smtp_user": "Identifiant SMTP",
    "smtp_security": "Sécurité SMTP",
    "sepa_creditor_name": "Prélèvement : nom du créancier",
    "sepa_creditor_id": "Prélèvement : identifiant créancier SEPA (ICS)",
    "sepa_iban": "Prélèvement : IBAN du compte crédité",
    "sepa_bic": "Prélèvement : BIC du compte crédité",
    "sepa_collection_day": "Prélèvement : jour du mois",
    "sepa_notice_days": "Prélèvement : délai de l'avis",
}


def setting_label(key: str | None) -> str:
    return SETTING_LABELS.get(key or "", key or "?")


def _service_update(entry: Entry) -> str:
    before, after = _dict(entry.before), _dict(entry.after)
    name = before.get("name") or entry.service or f"prestation n° {entry.entity_id}"
    changes = []
    for key, label in SERVICE_FIELDS.items():
        old, new = _service_value(key, before), _service_value(key, after)
        if key in after and old != new:
            changes.append(f"{label} {old} → {new}" if key in before else f"{label} {new}")
    return f"A modifié « {name} » : {', '.join(changes)}" if changes else f"A enregistré « {name} » sans changement"


def _capacity(entry: Entry) -> str:
    old, new = _int(_dict(entry.before).get("capacity")), _int(_dict(entry.after).get("capacity"))
    promoted = _int(_dict(entry.after).get("promoted")) or 0
    change = (
        f"{fr.decimal(old, 0)} → {count(new, 'place')}"
        if old is not None and new is not None
        else (count(new, "place") if new is not None else "?")
    )
    more = f" ; {count(promoted, 'enfant')} de la liste d'attente ont obtenu une place" if promoted else ""
    return f"A changé la capacité de {_site_service(entry)} : {change}{more}"


def brackets_text(value: Any) -> str:
    """[[700, 250], [None, 420]] → 'QF ≤ 700 : 2,50 € ; au-delà : 4,20 €'; [] → 'prix unique'."""
    parts = []
    for item in value or []:
        if not isinstance(item, (list, tuple)) or len(item) != 2 or _int(item[1]) is None:
            continue
        limit = _int(item[0])
        parts.append(f"{'au-delà' if limit is None else 'QF ≤ ' + fr.decimal(limit, 0)} : {fr.euros(_int(item[1]))}")
    return " ; ".join(parts) if parts else "prix unique de la prestation"


def _tariffs(entry: Entry) -> str:
    name = entry.service or f"prestation n° {entry.entity_id}"
    return f"A changé les tarifs de « {name} » : {brackets_text(entry.before)} → {brackets_text(entry.after)}"


def _decision(entry: Entry) -> str:
    after = _dict(entry.after)
    name = entry.service or f"prestation n° {entry.entity_id}"
    start = after.get("valid_from")
    when = f" à partir du {fr.long_date(date.fromisoformat(start))}" if isinstance(start, str) else ""
    reference = f" ({after['reference']})" if after.get("reference") else ""
    price = _int(after.get("unit_price_cents"))
    return (
        f"A enregistré un nouveau tarif de « {name} »{when}{reference} : "
        f"{fr.euros(price) if price is not None else '?'}, {brackets_text(after.get('brackets'))}"
    )


def _publish(entry: Entry) -> str:
    after = _dict(entry.after)
    documents = _int(after.get("documents")) or 0
    numbers = f" ({after['first']} à {after['last']})" if after.get("first") and after.get("last") else ""
    total = _int(after.get("total_cents"))
    carried = _int(after.get("carried_over")) or 0
    return (
        f"A publié {count(documents, 'document')} pour {_month(entry.entity_id)}{numbers}"
        f"{', total ' + fr.euros(total) if total is not None else ''}"
        f"{', ' + count(carried, 'montant') + ' sous le seuil reporté(s)' if carried else ''}"
    )


TX_STATES = {
    "paid": "Paiement en ligne reçu",
    "refused": "Paiement en ligne refusé par la banque",
    "cancelled": "Paiement en ligne abandonné par la famille",
    "error": "Paiement en ligne en erreur",
    "expired": "Paiement en ligne expiré (pas de réponse de la banque)",
    "pending": "Paiement en ligne en attente",
}
SOURCES = {
    "return": "retour de la famille",
    "notification": "avis de la banque",
    "reconciliation": "rapprochement",
    "retour": "retour de la famille",
}


def _amount(entry: Entry) -> str:
    cents = _int(_dict(entry.after).get("amount_cents"))
    return f" de {fr.euros(cents)}" if cents is not None else ""


def _payment_state(entry: Entry) -> str:
    state = entry.action.split(".", 1)[1]
    source = _dict(entry.after).get("source")
    how = f" ({SOURCES.get(source, source)})" if source else ""
    over = _int(_dict(entry.after).get("overpaid_cents"))
    refund = f" — trop-perçu de {fr.euros(over)} à rembourser" if over else ""
    return f"{TX_STATES.get(state, 'Paiement en ligne : ' + state)}{_amount(entry)} pour {_invoice(entry)}{how}{refund}"


def _sepa_run(entry: Entry) -> str:
    after = _dict(entry.after)
    cents = _int(after.get("total_cents"))
    collected = _day(after.get("collection_date"))
    return (
        f"A généré le fichier de prélèvement ({_month(after.get('month'))}) : {after.get('debits', '?')} "
        f"prélèvement(s){', ' + fr.euros(cents) if cents is not None else ''}"
        f"{', le ' + fr.long_date(collected) if collected else ''}"
    )


def _payment_rejected(entry: Entry) -> str:
    """One rejected answer for a transaction, or the anonymous ones from one address, counted."""
    source = _dict(entry.after).get("source")
    if entry.entity == "address":
        n = _int(_dict(entry.after).get("count")) or 1
        how = f" ({SOURCES.get(source, source)})" if source else ""
        return (
            f"{plural(n, 'réponse de paiement rejetée', 'réponses de paiement rejetées')} venant de "
            f"{entry.entity_id}{how}"
        )
    ref = f" (transaction {entry.entity_id})" if entry.entity_id else ""
    return f"Réponse de paiement rejetée{ref}{', reçue par ' + SOURCES.get(source, source) if source else ''}"


def _cash_payment(entry: Entry) -> str:
    after = _dict(entry.after)
    try:
        how = f" {PaymentMethod(str(after.get('method'))).adverb}"
    except ValueError:
        how = ""
    cents = _int(after.get("amount_cents"))
    amount = f" {fr.euros(cents)}" if cents is not None else ""
    return f"A encaissé{amount}{how} à la régie pour {_invoice(entry)} (reçu {after.get('receipt', '?')})"


def _cash_cancel(entry: Entry) -> str:
    before, after = _dict(entry.before), _dict(entry.after)
    return (
        f"A annulé le reçu {before.get('receipt', '?')} de la régie pour {_invoice(entry)} "
        f"(reçu d'annulation {after.get('receipt', '?')})"
    )


def _regisseur(entry: Entry) -> str:
    verb = (
        "A donné le droit de régisseur à" if _dict(entry.after).get("regisseur") else "A retiré le droit de régisseur à"
    )
    return f"{verb} {_named(entry)}"


def _named(entry: Entry, key: str = "name") -> str:
    """The name the entry recorded (after, else before), or the entity's number."""
    name = _dict(entry.after).get(key) or _dict(entry.before).get(key)
    return f"« {name} »" if name else f"n° {entry.entity_id}"


def _site_change(entry: Entry) -> str:
    before, after = _dict(entry.before), _dict(entry.after)
    if before.get("name") and after.get("name") and before["name"] != after["name"]:
        return f"A renommé la structure « {before['name']} » en « {after['name']} »"
    return f"A modifié la structure {_named(entry)}"


def _logout(entry: Entry) -> str:
    after = _dict(entry.after)
    if not after.get("everywhere"):
        return "S'est déconnecté(e)"
    others = _int(after.get("other_sessions")) or 0
    return f"S'est déconnecté(e) de tous les appareils ({count(others, 'autre session')} fermée(s))"


def _password(entry: Entry) -> str:
    others = _int(_dict(entry.after).get("other_sessions")) or 0
    return f"A changé son mot de passe ({count(others, 'autre session')} fermée(s))"


def _mail_preferences(entry: Entry) -> str:
    labels = {kind.value: kind.label.lower() for kind in MailKind}
    chosen = [
        f"{labels.get(kind, kind)} : {'oui' if wanted else 'non'}"
        for kind, wanted in sorted(_dict(entry.after).items())
    ]
    return "A choisi les courriels reçus" + (f" ({', '.join(chosen)})" if chosen else "")


HEALTH_FIELDS = {
    "has_pai": "PAI signé",
    "allergies": "allergies",
    "protocol": "protocole",
    "meal_basket": "panier repas",
    "doctor_name": "médecin",
    "doctor_phone": "téléphone du médecin",
    "valid_until": "date de validité",
}


def _health_fields(entry: Entry) -> str:
    """The names of the fields changed (the entry holds no value: health data stays out of the log)."""
    names = [HEALTH_FIELDS.get(str(f), str(f)) for f in _dict(entry.after).get("fields") or []]
    return f" ({', '.join(names)})" if names else ""


def _health_read(entry: Entry) -> str:
    if entry.entity == "site_service_day":
        day = _day((entry.entity_id or "").split(":")[-1])
        when = f" le {fr.long_date(day)}" if day else ""
        shown = count(len(_dict(entry.after)), "enfant")
        return f"A affiché les PAI de la liste de pointage {_site_service(entry)}{when} : {shown} avec une fiche"
    return f"A consulté la fiche de santé (PAI) de {_child(entry)}"


LINK_PURPOSES = {
    "invitation": "d'invitation",
    "password_reset": "de nouveau mot de passe",
    "email_change": "de confirmation d'adresse",
}
LINK_WHY = {
    "unknown": "inconnu",
    "used": "déjà utilisé ou remplacé par un plus récent",
    "expired": "expiré",
    "other_purpose": "d'un autre usage",
    "inactive": "d'un compte fermé",
}


def _link_refused(entry: Entry) -> str:
    after = _dict(entry.after)
    purpose = LINK_PURPOSES.get(str(after.get("purpose")))
    why = LINK_WHY.get(str(after.get("why")), str(after.get("why") or "?"))
    return f"Lien {purpose} refusé ({why})" if purpose else f"Lien refusé ({why})"


def _invited(entry: Entry) -> str:
    after = _dict(entry.after)
    again = "renvoyé" if after.get("resent") else "envoyé"
    to = f" à {after['email']}" if after.get("email") else ""
    return f"A {again} l'invitation à créer un mot de passe{to}"


def _reset_requested(entry: Entry) -> str:
    sent = _dict(entry.after).get("sent")
    return "A demandé un nouveau mot de passe" + ("" if sent else " (trop de demandes dans l'heure : rien envoyé)")


def _quotient(entry: Entry) -> str:
    qf = _dict(entry.after).get("qf")
    return (
        f"A enregistré le quotient familial {qf} de {_family(entry)}"
        if isinstance(qf, int)
        else (f"A enregistré le quotient familial de {_family(entry)}")
    )


def _consent(entry: Entry) -> str:
    after = _dict(entry.after)
    word = {"photo": "photos", "sorties": "sorties"}.get(str(after.get("kind")), "une autorisation")
    verb = "accordé" if after.get("granted") is True else "refusé"
    return f"A {verb} l'autorisation « {word} » pour {_child(entry)}"


def _archived(entry: Entry) -> str:
    cancelled = _dict(entry.after).get("cancelled")
    who = _family(entry) if entry.entity == "family" else _child(entry)
    if isinstance(cancelled, int):
        return f"A archivé le dossier de {who} ({count(cancelled, 'réservation')} annulée(s) à partir du lendemain)"
    return f"A archivé le dossier de {who}"


def _imported(entry: Entry) -> str:
    after = _dict(entry.after)
    created, updated = _int(after.get("families_created")) or 0, _int(after.get("families_updated")) or 0
    children = (_int(after.get("children_created")) or 0) + (_int(after.get("children_updated")) or 0)
    return (
        f"A importé un fichier de familles ({count(created, 'famille')} créée(s), {count(updated, 'famille')} "
        f"modifiée(s), {count(children, 'enfant')} créé(s) ou modifié(s))"
    )


def _exported(entry: Entry) -> str:
    families = _int(_dict(entry.after).get("familles")) or 0
    return f"A exporté le fichier des familles ({count(families, 'famille')})"


def _unpaid_exported(entry: Entry) -> str:
    after = _dict(entry.after)
    invoices = _int(after.get("factures")) or 0
    return (
        f"A exporté les impayés pour le comptable public ({count(invoices, 'facture')}, "
        f"reste à recouvrer {fr.euros(_int(after.get('reste_cents')) or 0)})"
    )


SENTENCES: dict[str, Callable[[Entry], str]] = {
    "mail.preferences": _mail_preferences,
    "auth.login": lambda e: "S'est connecté(e)",
    "auth.invited": _invited,
    "auth.activated": lambda e: "A activé son compte en choisissant son mot de passe",
    "auth.reset_requested": _reset_requested,
    "auth.reset_unknown": lambda e: (
        f"Nouveau mot de passe demandé pour une adresse e-mail sans compte actif (connexion {e.entity_id})"
    ),
    "auth.reset_not_sent": lambda e: (
        f"Nouveau mot de passe demandé, aucun lien envoyé : adresse publique du portail non configurée "
        f"(connexion {e.entity_id})"
    ),
    "auth.password_reset": lambda e: "A choisi un nouveau mot de passe par le lien reçu (toutes ses sessions fermées)",
    "auth.link_refused": _link_refused,
    "auth.email_change_requested": lambda e: (
        f"A demandé à changer son adresse e-mail pour {_dict(e.after).get('new', '?')} (à confirmer)"
    ),
    "auth.email_changed": lambda e: (
        f"A changé son adresse e-mail : {_dict(e.before).get('email', '?')} → {_dict(e.after).get('email', '?')}"
    ),
    "auth.email_change_refused": lambda e: "Changement d'adresse e-mail refusé à la confirmation",
    "auth.logout": _logout,
    "auth.password": _password,
    "booking.days": _booking,
    "booking.days.late": _booking,
    "booking.template": _booking,
    "booking.template.late": _booking,
    "booking.promoted": _promoted,
    "closure.cancelled": _closure_cancelled,
    "closure.declare": _closure_declare,
    "closure.withdraw": _closure_withdraw,
    "registration.save": _registration,
    "attendance.save": _attendance,
    "service.update": _service_update,
    "capacity.update": _capacity,
    "tariff.update": _tariffs,
    "tariff.decide": _decision,
    "tariff.decision_refused": lambda e: f"Tarif refusé pour {e.service or 'une prestation'}",
    "setting.refused": lambda e: f"Réglage « {setting_label(e.entity_id)} » refusé",
    "tariff.refused": lambda e: (
        f"Modification des tarifs de « {e.service or 'prestation n° ' + str(e.entity_id)} » refusée"
    ),
    "service.refused": lambda e: f"Modification de la prestation « {e.service or 'n° ' + str(e.entity_id)} » refusée",
    "invoice.publish": _publish,
    "invoice.publish_refused": lambda e: f"Publication des factures refusée pour {_month(e.entity_id)}",
    "invoice.access_refused": lambda e: f"Accès refusé à {_invoice(e)}",
    "payment_right.request": lambda e: f"A demandé le droit de payer en ligne pour {_family(e)}",
    "payment_right.granted": lambda e: f"A accordé le droit de payer en ligne à {_family(e)}",
    "payment_right.refused": lambda e: f"A refusé le droit de payer en ligne à {_family(e)}",
    "payment.start": lambda e: f"A commencé un paiement en ligne{_amount(e)} pour {_invoice(e)}",
    "payment.start_refused": lambda e: f"Paiement en ligne refusé pour {_invoice(e)}",
    "payment.paid": _payment_state,
    "payment.refused": _payment_state,
    "payment.cancelled": _payment_state,
    "payment.error": _payment_state,
    "payment.expired": _payment_state,
    "payment.pending": _payment_state,
    "payment.rejected": _payment_rejected,
    "cashdesk.payment": _cash_payment,
    "cashdesk.refused": lambda e: f"Paiement à la régie refusé pour {_invoice(e)}",
    "cashdesk.cancel": _cash_cancel,
    "cashdesk.cancel_refused": lambda e: f"Annulation d'un reçu de la régie refusée (reçu n° {e.entity_id})",
    "user.regisseur": _regisseur,
    "user.regisseur_refused": lambda e: f"Droit de régisseur refusé pour le compte n° {e.entity_id}",
    "sepa.mandate": lambda e: f"A enregistré le mandat de prélèvement {_dict(e.after).get('rum', '')} de {_family(e)}",
    "sepa.mandate_refused": lambda e: f"Mandat de prélèvement refusé pour {_family(e)}",
    "sepa.mandate_revoked": lambda e: (
        f"A révoqué le mandat de prélèvement {_dict(e.after).get('rum', '')} de {_family(e)}"
    ),
    "sepa.revoke_refused": lambda e: f"Révocation du mandat de prélèvement n° {e.entity_id} refusée",
    "sepa.run": _sepa_run,
    "sepa.run_refused": lambda e: f"Fichier de prélèvement refusé pour {_month(e.entity_id)}",
    "sepa.collected": lambda e: f"Prélèvement encaissé{_amount(e)} pour {_invoice(e)}",
    "sepa.reject": lambda e: f"A enregistré le rejet du prélèvement de {_invoice(e)}",
    "sepa.reject_refused": lambda e: f"Rejet de prélèvement refusé (prélèvement n° {e.entity_id})",
    "sepa.import_refused": lambda e: "Import du compte rendu de rejets de la banque refusé",
    "sepa.settings_refused": lambda e: "Réglages du prélèvement refusés",
    "calendar.feed_created": lambda e: f"A créé le lien du calendrier du téléphone de {_child(e)}",
    "calendar.feed_replaced": lambda e: f"A remplacé le lien du calendrier du téléphone de {_child(e)}",
    "calendar.feed_revoked": lambda e: f"A supprimé le lien du calendrier du téléphone de {_child(e)}",
    "calendar.feed_refused": lambda e: f"Lien du calendrier du téléphone refusé pour {_child(e)}",
    "child.read": lambda e: f"A consulté le dossier de {_child(e)} (inscription et réservations)",
    "health.access_refused": lambda e: f"Accès refusé à la fiche de santé de {_child(e)}",
    "health.read": _health_read,
    "health.update": lambda e: f"A modifié la fiche de santé (PAI) de {_child(e)}{_health_fields(e)}",
    "health.propose": lambda e: f"A proposé une correction de la fiche de santé de {_child(e)}{_health_fields(e)}",
    "health.accepted": lambda e: f"A accepté la correction de la fiche de santé de {_child(e)} proposée par la famille",
    "health.refused": lambda e: f"A refusé la correction de la fiche de santé de {_child(e)} proposée par la famille",
    "health.purged": lambda e: f"Fiche de santé de {_child(e)} effacée" + (f" : {e.reason}" if e.reason else ""),
    "family.read": lambda e: f"A consulté le dossier de {_family(e)}",
    "family.create": lambda e: f"A créé le dossier de {_family(e)}",
    "family.update": lambda e: f"A modifié le dossier de {_family(e)} (nom, identifiant ou facturation)",
    "family.quotient": _quotient,
    "family.quotient.refused": lambda e: f"Enregistrement du quotient familial refusé pour {_family(e)}",
    "family.archive": _archived,
    "family.unarchive": lambda e: f"A désarchivé le dossier de {_family(e)}",
    "family.export": lambda e: f"A téléchargé les données du dossier de {_family(e)}",
    "import.applied": _imported,
    "import.refused": lambda e: "Import d'un fichier de familles refusé (rien n'a été écrit)",
    "import.export": _exported,
    "guardian.save": lambda e: f"A enregistré un responsable de {_family(e)}",
    "guardian.contact": lambda e: f"A modifié le téléphone ou l'adresse d'un responsable de {_family(e)}",
    "child.create": lambda e: f"A ajouté {_child(e)} au dossier de sa famille",
    "child.update": lambda e: f"A modifié la fiche de {_child(e)}",
    "child.shares": lambda e: f"A réparti la facture de {_child(e)} entre ses deux responsables",
    "child.archive": _archived,
    "child.unarchive": lambda e: f"A désarchivé le dossier de {_child(e)}",
    "contact.save": lambda e: f"A enregistré une personne à prévenir ou autorisée pour {_family(e)}",
    "contact.remove": lambda e: f"A retiré une personne à prévenir ou autorisée pour {_family(e)}",
    "consent.set": _consent,
    "change.propose": lambda e: f"A demandé un nouveau quotient familial pour {_family(e)}",
    "change.accepted": lambda e: f"A accepté la demande de {_family(e)}",
    "change.refused": lambda e: f"A refusé la demande de {_family(e)}",
    "change.refused_decision": lambda e: "Décision sur une demande de famille refusée",
    "database.backup": lambda e: (
        f"Sauvegarde de la base de données prise ({_dict(e.after)['file']})"
        if _dict(e.after).get("file")
        else "Sauvegarde de la base de données prise"
    ),
    "user.create": lambda e: (
        f"A créé le compte administrateur {_dict(e.after)['email']}"
        if _dict(e.after).get("email")
        else "A créé un compte administrateur"
    ),
    "setting.update": lambda e: f"A modifié le réglage « {setting_label(e.entity_id)} »",
    "setting.legal_refused": lambda e: "Enregistrement des mentions des factures refusé (rien n'a été écrit)",
    "unpaid.export": _unpaid_exported,
    "school_year.open": lambda e: f"A ouvert l'année scolaire {_dict(e.after).get('label') or e.entity_id}",
    "site.create": lambda e: f"A créé la structure {_named(e)}",
    "site.update": _site_change,
    "site.delete": lambda e: f"A supprimé la structure {_named(e)}",
    "service.create": lambda e: f"A créé la prestation {_named(e)}",
    "site_service.create": lambda e: (
        f"A ajouté {_site_service(e)} ({count(_int(_dict(e.after).get('capacity')) or 0, 'place')} par jour)"
    ),
    "diet.create": lambda e: f"A ajouté le régime {_named(e, 'label')}",
    "demo.build": lambda e: (
        f"A créé la ville de démonstration (données au {fr.long_date(_day(_dict(e.after)['today']))})"
        if _day(_dict(e.after).get("today"))
        else "A créé la ville de démonstration"
    ),
    "mail.transport_down": lambda e: "Le serveur d'envoi des courriels ne répond plus : les courriels attendent",
    "mail.transport_up": lambda e: "Le serveur d'envoi des courriels répond de nouveau : les envois reprennent",
    "mail.resend": lambda e: f"A renvoyé le courriel n° {e.entity_id} à {_dict(e.after).get('to', '?')}",
    "mail.cancel": lambda e: f"A annulé l'envoi du courriel n° {e.entity_id} à {_dict(e.after).get('to', '?')}",
    "mail.test": lambda e: "A demandé un courriel d'essai",
}

ENTITY_WORDS = {
    "child": "l'enfant",
    "family": "la famille",
    "invoice": "la facture",
    "service": "la prestation",
    "month": "le mois",
    "site_service": "la structure et prestation",
    "transaction": "la transaction",
    "site_service_day": "le pointage",
    "database": "la base de données",
    "user": "le compte",
    "mail": "le courriel",
    "closure": "la fermeture",
    "site": "la structure",
    "school_year": "l'année scolaire",
    "diet": "le régime",
    "address": "la connexion",
    "link": "un lien",
    "import": "le fichier de familles",
}


def _target(entry: Entry) -> str:
    named = (
        entry.child or entry.family or entry.invoice or (_site_service(entry) if entry.site or entry.service else None)
    )
    if named:
        return named
    word = ENTITY_WORDS.get(entry.entity, entry.entity or "?")
    return f"{word} {entry.entity_id}".strip() if entry.entity_id else word


def sentence(entry: Entry) -> str:
    """What happened, in one French sentence (no final full stop: it sits in a table cell)."""
    build = SENTENCES.get(entry.action)
    if build is not None:
        try:
            return build(entry)
        except (KeyError, TypeError, ValueError, AttributeError):
            pass  # an entry written by an older version in another shape: say what we can
    return f"Action « {entry.action} » sur {_target(entry)}"


def shown_reason(entry: Entry) -> str:
    """The reason column: what a person typed or the portal recorded, unless the sentence says it
    already (a check's « 1 correction(s) »)."""
    if entry.action == "attendance.save":
        return ""
    return entry.reason or ""


def concerns(entry: Entry) -> str:
    """Which family or child the entry is about: 'Hugo Martin (Famille Martin)', 'Famille Bonnet', ''."""
    if entry.child:
        return f"{entry.child} ({entry.family})" if entry.family else entry.child
    if entry.family:
        return entry.family
    return ""


def who(name: str | None, role: str | None) -> str:
    """'Nadia Benali (agent d'animation)', 'Camille Martin (famille)', 'Système' for the portal itself."""
    if not name:
        return SYSTEM
    if role is None:
        return name
    try:
        label = Role(role).label.lower()
    except ValueError:
        return name
    return name if label in name.lower() else f"{name} ({label})"
