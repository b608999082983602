"""A town's own portal: its first administrator, its deployment settings, and the check that a
production start (`PORTAIL_MODE=production`) runs before serving anyone.

A missing database used to become the demo town silently (accounts with the password « demo »,
the test bank on, a payment secret published in the code). In production the server refuses to
start on a missing database or on demo settings, listing what to fix and the command that fixes
it:

    python -m lib.services.setup admin --email ADRESSE [--name NOM]   # the password is asked twice
    python -m lib.services.setup set public_url https://famille.ma-ville.fr
    python -m lib.services.setup set payment_sandbox 0
    python -m lib.services.setup set mail_transport smtp                # and smtp_host, mail_from…
    python -m lib.services.setup check                                  # what a production start checks

These commands write, so they refuse (in French) while a server holds the database file.
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
from datetime import datetime
from email.utils import parseaddr
from urllib.parse import urlsplit

from lib.domain.clock import PARIS, to_utc_naive
from lib.domain.errors import InvalidInput, PortailError
from lib.domain.family_letters import receipt_delay_minutes, reminder_steps
from lib.domain.invoice_text import FIELDS as INVOICE_FIELDS
from lib.domain.invoice_text import check_mode, check_siret, check_text
from lib.domain.invoicing import check_recovery_minimum
from lib.domain.letters import NAME_LIMIT, one_line
from lib.domain.validation import normalize_email, whole_number
from lib.payments import provider
from lib.services import auth, mail
from lib.services.command_line import run_in_french
from lib.services.config import MODE, PRODUCTION, database, database_exists, db_path, production
from lib.services.demo_marks import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD, SANDBOX_OPTIONS
from lib.store import audit, deployment, reference
from lib.store.db import Cursor, Database

MIN_PASSWORD_LENGTH = 12
DISPLAY_NAME_MAX_LENGTH = 120
SETTING_MAX_LENGTH = 4000
ADMIN_COMMAND = "python -m lib.services.setup admin --email ADRESSE"
_ADDRESS_SPECIALS = '()<>[]:;@\\,"'  # a sender's name stays a plain phrase
_BACKEND = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


class NotReadyForProduction(PortailError):
    """A production start on demo data or demo settings."""


# --- the production check ------------------------------------------------------------------------
def _demo_secrets() -> set[str]:
    return {value for key, value in SANDBOX_OPTIONS.items() if "secret" in key}


def _option_values(raw: str) -> set[str]:
    try:
        options = json.loads(raw or "{}")
    except ValueError:
        return set()
    return {str(v) for v in options.values()} if isinstance(options, dict) else set()


def production_problems(db: Database) -> list[str]:
    """What stands between this database and a production start, each with its fix (French)."""
    settings = reference.settings(db)
    fresh = f"partez d'une base neuve : PORTAIL_DB=data/ville.duckdb {ADMIN_COMMAND}"
    problems = []
    if "demo_built_for" in settings:
        problems.append(f"c'est la base de démonstration (construite par make run ou make demo) : {fresh}")
    accounts = deployment.demo_accounts(db, DEMO_EMAIL_DOMAIN)
    if accounts:
        problems.append(
            f"{accounts} compte(s) de démonstration (…@{DEMO_EMAIL_DOMAIN}, mot de passe "
            f"« {DEMO_PASSWORD} ») existent : {fresh}"
        )
    unproven = provider.NOT_FOR_PRODUCTION.get(settings.get("payment_backend", ""))
    if unproven is not None:
        problems.append(f"{unproven} : python -m lib.services.setup set payment_backend payfip_ws")
    if settings.get("payment_sandbox") == "1":
        problems.append("la banque de test est active : python -m lib.services.setup set payment_sandbox 0")
    if _option_values(settings.get("payment_options", "")) & _demo_secrets():
        problems.append(
            "les options de paiement contiennent le secret de la démonstration, publié dans le code : "
            "python -m lib.services.setup set payment_options '{…}' avec les identifiants de votre banque"
        )
    if not settings.get("public_url", "").startswith("https://"):
        problems.append(
            "l'adresse publique du portail (public_url, en https) n'est pas renseignée : "
            "python -m lib.services.setup set public_url https://famille.ma-ville.fr"
        )
    if not deployment.active_admins(db):
        problems.append(f"aucun compte administrateur : {ADMIN_COMMAND}")
    return problems + mail_problems(settings)


def mail_problems(settings: dict[str, str]) -> list[str]:
    """What stops a production portal from sending its e-mail, each with its fix."""
    fix = "python -m lib.services.setup set"
    if settings.get("mail_transport") != mail.SMTP:
        return [f"les courriels ne partent pas vers un serveur d'envoi (mail_transport) : {fix} mail_transport smtp"]
    problems = []
    host = settings.get("smtp_host", "")
    if not host:
        problems.append(f"le serveur d'envoi des courriels n'est pas renseigné : {fix} smtp_host smtp.ma-ville.fr")
    if not settings.get("mail_from"):
        problems.append(
            f"l'expéditeur des courriels n'est pas renseigné : {fix} mail_from 'Ville de X <enfance@ma-ville.fr>'"
        )
    if host and settings.get("smtp_security") == "none" and not mail.is_loopback(host):
        problems.append(f"envoi sans chiffrement vers {host} : {fix} smtp_security starttls")
    if settings.get("smtp_user"):
        try:
            password = mail.smtp_password()
        except PortailError as exc:
            password, problem = "", exc.message
        else:
            problem = ""
        if not password:
            problems.append(
                problem
                or f"le compte SMTP {settings['smtp_user']} n'a pas de mot de passe : {mail.SMTP_PASSWORD_ENV}, "
                f"ou le fichier smtp-password à côté de la base (chmod 600)"
            )
    return problems


def _refusal(problems: list[str]) -> NotReadyForProduction:
    listed = "\n".join(f"  - {p}" for p in problems)
    return NotReadyForProduction(f"Démarrage en production ({MODE}={PRODUCTION}) refusé. À corriger :\n{listed}")


def ready_database() -> Database:
    """The database, if it exists and passes the production check; NotReadyForProduction (French,
    with the fixes) otherwise."""
    path = db_path()
    if not database_exists(path):
        raise _refusal(
            [
                f"la base « {path} » n'existe pas (un portail en production ne construit pas la "
                f"démonstration) : créez-la avec son premier administrateur, {ADMIN_COMMAND}"
            ]
        )
    db = database()
    problems = production_problems(db)
    if problems:
        raise _refusal(problems)
    return db


def serving_database() -> Database:
    """The database the server opens: checked first in production."""
    return ready_database() if production() else database()


# --- preparing a town's database -----------------------------------------------------------------
def check_new_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"Mot de passe trop court : {MIN_PASSWORD_LENGTH} caractères au moins.")
    if password.strip().lower() == DEMO_PASSWORD:
        raise InvalidInput("Ce mot de passe est celui de la démonstration : choisissez-en un autre.")
    return password


def create_admin(db: Database, email: str, display_name: str, password: str, now: datetime) -> int:
    """A new administrator account (the first one of a town's database); its id."""
    address = normalize_email(email)
    name = (display_name or "").strip()
    if not name or len(name) > DISPLAY_NAME_MAX_LENGTH:
        raise InvalidInput(f"Nom affiché : entre 1 et {DISPLAY_NAME_MAX_LENGTH} caractères.")
    password_hash = auth.hash_password(check_new_password(password))
    at = to_utc_naive(now)

    def work(cur) -> int:
        if deployment.email_taken(cur, address):
            raise InvalidInput(f"Un compte existe déjà avec l'adresse {address}.")
        user_id = deployment.insert_admin(cur, address, password_hash, name, at)
        audit.record(
            cur,
            at_utc=at,
            user_id=None,
            action="user.create",
            entity="user",
            entity_id=user_id,
            after={"email": address, "role": "admin"},
            reason="ligne de commande (setup admin)",
        )
        return user_id

    return db.write(work)


def _https_origin(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidInput(
            "public_url : l'adresse https du portail, sans chemin (exemple : https://famille.ma-ville.fr)."
        )
    return value.rstrip("/")


def _json_object(value: str) -> str:
    try:
        options = json.loads(value)
    except ValueError:
        options = None
    if not isinstance(options, dict):
        raise InvalidInput('payment_options : un objet JSON, par exemple {"site_id": "…", "secret_production": "…"}.')
    return value


def _one_of(*allowed: str):
    def check(value: str) -> str:
        if value not in allowed:
            raise InvalidInput(f"Valeur attendue : {' ou '.join(allowed)}.")
        return value

    return check


def _backend(value: str) -> str:
    if not _BACKEND.match(value):
        raise InvalidInput("payment_backend : le nom d'un module eopayment (par exemple payfip_ws ou systempayv2).")
    return value


def _text(value: str) -> str:
    if not value.strip():
        raise InvalidInput("Valeur vide.")
    return value.strip()


def _host(value: str) -> str:
    host = value.strip().lower()
    if not host or len(host) > 253 or not re.fullmatch(r"[a-z0-9.:-]+", host):
        raise InvalidInput("smtp_host : le nom ou l'adresse du serveur d'envoi (exemple : smtp.ma-ville.fr).")
    return host


def _port(value: str) -> str:
    number = int(value) if value.strip().isdigit() else -1
    return str(whole_number(number, "smtp_port", 1, 65535))


def _per_minute(value: str) -> str:
    number = int(value) if value.strip().isdigit() else -1
    return str(whole_number(number, "mail_per_minute (0 : sans limite)", 0, 100000))


def _sender(value: str) -> str:
    """« Ville de X – service enfance <enfance@ville.fr> » or a bare address."""
    raw = value.strip()
    name, address = parseaddr(raw)
    written_name = raw.rpartition("<")[0].strip() if "<" in raw else ""
    if (
        "@" not in address
        or one_line(raw, SETTING_MAX_LENGTH) != raw  # no line break, no control character
        or name.strip() != written_name  # the parser dropped nothing (« Bcc: », a comment)
        or len(name) > NAME_LIMIT
        or set(name) & set(_ADDRESS_SPECIALS)
        or set(raw) & set(",;")  # one address
    ):
        raise InvalidInput(
            "mail_from : une adresse, avec un nom si vous le souhaitez (exemple : Ville de X <enfance@ma-ville.fr>)."
        )
    clean = normalize_email(address)
    return f"{name.strip()} <{clean}>" if name.strip() else clean


def _reminder_days(value: str) -> str:
    return ",".join(str(step) for step in reminder_steps(value))


def _receipt_delay(value: str) -> str:
    return str(receipt_delay_minutes(value))


def _recovery_minimum(value: str) -> str:
    if not value.strip().isdigit():
        raise InvalidInput("Seuil de mise en recouvrement : un nombre entier de centimes (1500 pour 15,00 €).")
    return str(check_recovery_minimum(int(value.strip())))


# key -> (check, secret: the value never goes into the audit log)
SETTINGS = {
    "town_name": (_text, False),
    "holiday_zone": (_one_of("A", "B", "C"), False),
    "contact_email": (normalize_email, False),
    "public_url": (_https_origin, False),
    "payment_backend": (_backend, False),
    "payment_options": (_json_object, True),
    "payment_sandbox": (_one_of("0", "1"), False),
    "mail_transport": (_one_of(mail.SMTP, mail.SINK), False),
    "smtp_host": (_host, False),
    "smtp_port": (_port, False),
    "smtp_security": (_one_of("starttls", "ssl", "none"), False),
    "smtp_user": (_text, False),
    "mail_from": (_sender, False),
    "mail_per_minute": (_per_minute, False),
    "unpaid_reminder_days": (_reminder_days, False),
    "receipt_delay_minutes": (_receipt_delay, False),
    # what the invoices say of the town (lib.domain.invoice_text; the administrator's page checks them together)
    "town_siret": (check_siret, False),
    "collection_mode": (lambda value: check_mode(value).value, False),
    **{
        key: ((lambda value, key=key: check_text(key, value)), False)
        for key in INVOICE_FIELDS
        if key not in ("town_siret", "collection_mode")
    },
    "recovery_minimum_cents": (_recovery_minimum, False),
}


def _plain_smtp_refused(db: Database, key: str, clean: str) -> None:
    """`smtp_security none` (no encryption) only towards this machine."""
    if key not in ("smtp_host", "smtp_security"):
        return
    values = {**reference.settings(db), key: clean}
    host = values.get("smtp_host", "")
    if values.get("smtp_security") == "none" and host and not mail.is_loopback(host):
        raise InvalidInput(
            f"Envoi sans chiffrement (smtp_security none) refusé vers {host} : seulement vers cette machine "
            "(127.0.0.1). Choisissez starttls ou ssl."
        )


def checked_setting(key: str, value: str) -> str:
    """The value `key` will store, checked (InvalidInput in French otherwise)."""
    if key not in SETTINGS:
        raise InvalidInput(f"Réglage inconnu « {key[:40]} » : {', '.join(SETTINGS)}.")
    if len(value) > SETTING_MAX_LENGTH:
        raise InvalidInput(f"Valeur trop longue (au plus {SETTING_MAX_LENGTH} caractères).")
    check, _ = SETTINGS[key]
    return check(value)


def write_setting(cur: Cursor, key: str, clean: str, at_utc: datetime, user_id: int | None, reason: str | None) -> None:
    """Store a checked setting with its audit entry (a secret's value left out of it), in the
    caller's transaction."""
    before = deployment.put_setting(cur, key, clean)
    secret = SETTINGS[key][1]
    audit.record(
        cur,
        at_utc=at_utc,
        user_id=user_id,
        action="setting.update",
        entity="setting",
        entity_id=key,
        before=None if secret else before,
        after=None if secret else clean,
        reason=reason,
    )


def set_setting(db: Database, key: str, value: str, now: datetime) -> None:
    """Set one deployment setting, checked, with its audit entry (secrets left out of it)."""
    clean = checked_setting(key, value)
    _plain_smtp_refused(db, key, clean)
    at = to_utc_naive(now)
    db.write(lambda cur: write_setting(cur, key, clean, at, None, "ligne de commande (setup set)"))


# --- command line --------------------------------------------------------------------------------
def _ask_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Mot de passe : ")
    if getpass.getpass("Le même mot de passe, encore : ") != first:
        raise InvalidInput("Les deux mots de passe diffèrent.")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Préparer le Portail Famille d'une ville (production).")
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("admin", help="créer un compte administrateur (la base est créée si besoin)")
    admin.add_argument("--email", required=True, help="adresse e-mail de connexion")
    admin.add_argument("--name", default="Service éducation (administrateur)", help="nom affiché")
    admin.add_argument("--password-stdin", action="store_true", help="lire le mot de passe sur l'entrée standard")
    setting = commands.add_parser("set", help="régler " + ", ".join(SETTINGS))
    setting.add_argument("key", help="réglage")
    setting.add_argument("value", help="valeur")
    commands.add_parser("check", help="ce qu'un démarrage en production vérifie")
    args = parser.parse_args(argv)
    now = datetime.now(PARIS)

    def work() -> None:
        if args.command == "admin":
            db = database()
            user_id = create_admin(db, args.email, args.name, _ask_password(args.password_stdin), now)
            print(f"Compte administrateur n° {user_id} créé pour {normalize_email(args.email)} dans « {db.path} ».")
        elif args.command == "set":
            set_setting(database(), args.key, args.value, now)
            print(f"Réglage « {args.key} » enregistré.")
        else:
            print(f"« {ready_database().path} » est prête pour la production.")

    return run_in_french(work)


if __name__ == "__main__":
    sys.exit(main())
